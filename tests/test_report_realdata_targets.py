"""Real-data rows, declared baselines and targets: from benchmark file to report."""

from __future__ import annotations

import json
import math

import pytest

from ganbench.config.benchmarks import load_benchmark
from ganbench.config.targets import parse_target
from ganbench.core.errors import ConfigError
from ganbench.evaluation.realdata import compute_real_data, ensure_real_data, real_data_path
from ganbench.report.load import load_records
from ganbench.report.render import benchmark_markdown, readme, target_markdown
from ganbench.report.tables import build_tables
from tests.test_report_records import make_record, write_record

RING = """dataset = "ring8"
primary_metric = "modes"
baseline = "{baseline}"
variants = ["vanilla", "lsgan"]
target_note = "why not"
[target]
{target}
[profiles.quick]
budget = "1e9flops"
eval = {{ n_samples = 2500 }}
"""


def _bench(tmp_path, baseline="vanilla", target="modes = { at_least = 8 }"):
    path = tmp_path / "ring8.toml"
    path.write_text(RING.format(baseline=baseline, target=target))
    return load_benchmark(path)


def test_bad_baseline_and_target_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="baseline: 'wgan-gp' is not among"):
        _bench(tmp_path, baseline="wgan-gp")
    with pytest.raises(ConfigError, match="target.modes: expected a table with one of"):
        _bench(tmp_path, target="modes = 8")
    with pytest.raises(ConfigError, match="at_most_real_multiple: a multiple"):
        parse_target({"fid/x": {"at_most_real_multiple": 0}})
    assert _bench(tmp_path).baseline == "vanilla"


def test_ring8_real_data_row_is_the_mixture_itself(tmp_path):
    record = compute_real_data(_bench(tmp_path), "quick")
    m = record["metrics"]
    # 2,500 fresh points: every mode, ~98.9 % within 3 std (1 - e^-4.5 for a 2-D Gaussian)
    assert m["modes"] == 8 and 97.5 < m["high_quality"] < 100 and m["reverse_kl"] < 0.01
    assert record["eval"]["n_samples"] == 2500 and "fresh" in record["what"]


def test_suite_hook_writes_declarations_and_real_data_once(tmp_path):
    bench = _bench(tmp_path)
    out = tmp_path / "results"
    assert ensure_real_data([bench], "quick", out) == [real_data_path(out, "ring8")]
    assert ensure_real_data([bench], "quick", out) == []          # same settings: kept
    declared = json.loads((out / "runs" / "ring8" / "benchmark.json").read_text())
    assert declared["baseline"] == "vanilla" and declared["variants"] == ["vanilla", "lsgan"]


def test_report_shows_real_row_target_table_and_names_missing_variants(tmp_path):
    bench = _bench(tmp_path, target="modes = { at_least = 8 }\nhigh_quality = { at_least = 90 }")
    ensure_real_data([bench], "quick", tmp_path)
    for seed, (modes, hq) in enumerate([(8, 95.0), (8, 91.0), (7, 99.0)]):
        write_record(tmp_path, make_record("ring8", "vanilla", seed,
                                           {"modes": modes, "high_quality": hq, "reverse_kl": 0.1}))
    table = build_tables(load_records(tmp_path))[0]
    assert table.missing == ["lsgan"] and table.baseline == "vanilla"
    text = benchmark_markdown(table)
    assert text.splitlines()[2].startswith("| real data | — | — | — | 8 | 9")
    assert "Not run yet (declared by the benchmark file, no records): lsgan." in text
    row = table.to_target.iloc[0]
    # fixture snapshots: half values at 0.5, the finals at 1.0; seed 2 never has 8 modes
    assert (row["runs"], row["reached"], row["never"]) == (3, 2, 1)
    assert row["flops"] == 2.0e11 and "1 of 3" in target_markdown([table])
    assert "high_quality ≥ 90 and modes ≥ 8" in target_markdown([table])
    assert "Why this target: why not" in readme([table], {}, 3, [])


def test_baseline_without_records_gives_no_comparison(tmp_path):
    ensure_real_data([_bench(tmp_path)], "quick", tmp_path)
    write_record(tmp_path, make_record("ring8", "lsgan", 0, {"modes": 8}))
    table = build_tables(load_records(tmp_path))[0]
    assert table.baseline is None and math.isnan(table.summary["p_improve"].iloc[0])
    assert "declared baseline variant has no records" in benchmark_markdown(table)
