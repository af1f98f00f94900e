"""`ganbench compare` and `ganbench run --seeds`: do two result sets draw the same conclusions?"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from ganbench.cli import main
from ganbench.cli.run import parse_seeds
from ganbench.config.benchmarks import load_benchmark
from ganbench.report.agreement import agreement_markdown, compare_targets, compare_verdicts, verdict
from ganbench.report.load import load_records
from ganbench.report.tables import build_tables
from tests.test_report_records import make_record, write_record

ROOT = Path(__file__).resolve().parents[1]


def ring8(root: Path, modes: dict[str, list[float]]) -> list:
    """ring8 records, one per seed of each variant's list; vanilla is the baseline."""
    for variant, values in modes.items():
        for seed, m in enumerate(values):
            write_record(root, make_record("ring8", variant, seed,
                                           {"modes": m, "high_quality": 90.0, "reverse_kl": 0.1}))
    return build_tables(load_records(root))


def test_verdict_of_a_comparison_row():
    row = {"baseline": False, "p_holm": 0.01, "p_improve": 0.9}
    assert verdict(row) == "better"
    assert verdict({**row, "p_improve": 0.1}) == "worse"
    assert verdict({**row, "p_holm": 0.2}) == "not separated"
    assert verdict({**row, "p_holm": math.nan}) == "untested"      # fewer than 2 seeds
    assert verdict({**row, "baseline": True}) == "baseline"


def test_identical_sets_hold_every_verdict(tmp_path):
    modes = {"vanilla": [8, 8, 7, 8, 8], "lsgan": [1, 2, 0, 1, 2], "wgan": [8, 7, 8, 6, 8]}
    a, b = ring8(tmp_path / "a", modes), ring8(tmp_path / "b", modes)
    v = compare_verdicts(a, b).set_index(["variant", "metric"])
    assert v.loc[("lsgan", "modes"), "verdict_a"] == "worse"          # 5 v 5, exact p = 2/252, Holm x2
    assert v.loc[("wgan", "modes"), "verdict_a"] == "not separated"
    assert v["held"].all() and not v["means_apart"].any()
    text = agreement_markdown(compare_verdicts(a, b), pd.DataFrame(), "A", "B")
    assert "6 of 6 comparisons with the baseline held" in text       # 3 metrics x 2 variants
    assert "2 of 2 on the primary metric (modes)" in text and "No verdict changed." in text


def test_a_flipped_comparison_is_named(tmp_path):
    a = ring8(tmp_path / "a", {"vanilla": [8, 8, 7, 8, 8], "lsgan": [1, 2, 0, 1, 2]})
    b = ring8(tmp_path / "b", {"vanilla": [8, 8, 7, 8, 8], "lsgan": [7, 8, 8, 6, 8]})
    v = compare_verdicts(a, b).set_index(["variant", "metric"])
    row = v.loc[("lsgan", "modes")]
    assert (row["verdict_a"], row["verdict_b"], row["held"]) == ("worse", "not separated", False)
    assert row["means_apart"]                      # 1.2 [0.6, 1.8] against 7.4 [6.6, 8.0]
    text = agreement_markdown(compare_verdicts(a, b), pd.DataFrame(), "A", "B")
    assert "0 of 1 on the primary metric (modes)" in text
    assert "| ring8 | lsgan | modes | worse | not separated |" in text


def test_compute_to_target_held_when_both_medians_are_finite_or_neither():
    def table(flops, never):
        frame = pd.DataFrame({"variant": ["vanilla", "lsgan"], "runs": [10, 10], "never": never,
                              "flops": flops})
        return SimpleNamespace(benchmark="ring8", to_target=frame)

    a = [table([1.2e12, math.inf], [0, 5])]
    b = [table([1.4e12, 1.5e12], [3, 4])]
    t = compare_targets(a, b).set_index("variant")
    assert t.loc["vanilla", "held"] and t.loc["vanilla", "never_b"] == "3 of 10"
    assert not t.loc["lsgan", "held"]              # never reached by half of A, reached by most of B


def test_cli_compare_prints_and_writes(tmp_path):
    modes = {"vanilla": [8, 8, 7], "lsgan": [1, 2, 0]}
    ring8(tmp_path / "a", modes), ring8(tmp_path / "b", modes)
    out = tmp_path / "agreement.md"
    result = CliRunner().invoke(main, ["compare", str(tmp_path / "a"), str(tmp_path / "b"),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "comparisons with the baseline held" in result.output
    assert out.read_text() == result.output


def test_parse_seeds():
    assert parse_seeds("10-19") == tuple(range(10, 20))
    assert parse_seeds("0, 3,5-7,3") == (0, 3, 5, 6, 7)     # each once, in order
    assert parse_seeds(None) == ()
    for bad, why in (("1-x", "not a seed or a range"), ("5-3", "is empty"), ("", "not a seed")):
        with pytest.raises(click.BadParameter, match=why):
            parse_seeds(bad)


def test_with_seeds_changes_only_the_seeds_of_that_profile():
    bench = load_benchmark(ROOT / "benchmarks" / "ring8.toml")
    shifted = bench.with_seeds("quick", tuple(range(10, 20)))
    old, new = bench.run_configs("quick"), shifted.run_configs("quick")
    assert [c.seed for c in new[:10]] == list(range(10, 20))
    assert [c.to_dict() | {"seed": 0} for c in old] == [c.to_dict() | {"seed": 0} for c in new]
    assert shifted.profiles["smoke"] == bench.profiles["smoke"]
    assert bench.with_seeds("paper", (1,)) is bench            # ring8 has no paper profile


def test_run_seeds_option_reaches_the_plan(monkeypatch, tmp_path):
    seen = []

    def plan(benchmarks, profile, out, **kwargs):   # record what would run, train nothing
        seen.extend(c.seed for b in benchmarks for c in b.run_configs(profile))
        return []

    monkeypatch.setattr("ganbench.suite.tasks.plan", plan)
    result = CliRunner().invoke(main, ["run", "ring8", "--seeds", "10-12", "--variant", "vanilla",
                                       "--benchmarks-dir", str(ROOT / "benchmarks"),
                                       "--out", str(tmp_path)])
    assert "no runs selected" in result.output            # the stub planned nothing
    assert sorted(set(seen)) == [10, 11, 12]
