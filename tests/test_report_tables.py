"""Known-answer tests of the report's statistics and tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ganbench.metrics.naming import metric_label, primary_metrics, sort_metrics
from ganbench.report.literature import LiteratureResult
from ganbench.report.load import load_records
from ganbench.report.render import benchmark_latex, benchmark_markdown, literature_markdown
from ganbench.report.stats import bootstrap_mean, holm, permutation_p, t_interval
from ganbench.report.tables import build_tables, format_interval, sci
from tests.test_report_records import image_suite, ring8_suite

T_0975_2 = 4.302652729749464   # Student-t 97.5 % quantile, 2 degrees of freedom (tables)


def test_t_interval_by_hand():
    # kept for the sweep report's rerun column
    mean, half, n = t_interval([1, 2, 3])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(T_0975_2 * 1 / math.sqrt(3), rel=1e-12)   # sd = 1
    assert math.isnan(t_interval([5.0])[1]) and t_interval([])[2] == 0


def test_holm_by_hand():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": math.nan})
    # sorted 0.01, 0.03, 0.04 -> 3*0.01, max(.03, 2*.03), max(.06, 1*.04)
    assert adjusted["a"] == pytest.approx(0.03)
    assert adjusted["c"] == pytest.approx(0.06) and adjusted["b"] == pytest.approx(0.06)
    assert math.isnan(adjusted["d"])


def test_metric_headers_name_the_extractor():
    assert metric_label("fid/fmnist-cnn") == "FID (FMNIST-CNN)"
    assert metric_label("fid/inception-v3-compat") == "FID (Inception)"
    assert metric_label("modes") == "Modes"
    assert sort_metrics(["jsd", "fid/b", "modes", "zzz", "fid/a"]) == [
        "modes", "fid/a", "fid/b", "jsd", "zzz"]
    assert primary_metrics(["reverse_kl", "modes", "high_quality"]) == ["modes", "reverse_kl"]
    assert primary_metrics(["fid/fmnist-cnn", "fid/inception-v3-compat", "classes_covered"]) == [
        "fid/inception-v3-compat"]
    # stacked datasets: FID is computed too, but a mode-counting benchmark ranks by modes
    assert primary_metrics(["fid/fmnist-cnn", "modes", "reverse_kl"]) == ["modes", "reverse_kl"]


def test_formatting():
    assert format_interval(2.0, 1.0, 3.0, 4) == "2.0 [1.0, 3.0]"          # a bootstrap
    assert format_interval(2.0, 1.0, 3.0, 3) == "2.0 (1.0–3.0)"           # 3 seeds: their range
    assert format_interval(0.0305, 0.025, 0.037, 2) == "0.0305 (0.0250–0.0370)"
    assert format_interval(7.0, math.nan, math.nan, 1) == "7.00 (n=1)"
    assert format_interval(math.nan, math.nan, math.nan, 0) == "—"
    assert format_interval(math.inf, math.nan, math.nan, 3) == "∞"
    assert sci(2.0e11) == "2.0e11"


@pytest.fixture
def ring8(tmp_path):
    ring8_suite(tmp_path)
    return build_tables(load_records(tmp_path))[0]


def test_ring8_table_numbers(ring8):
    s = ring8.summary.set_index(["variant", "metric"])
    van = s.loc[("vanilla", "modes")]
    # view "all": modes 1, 2, 3 and the diverged seed at the worst value, 0
    assert (van["n"], van["worst_filled"], van["mean"]) == (4, 1, 1.5)
    ref = bootstrap_mean([1.0, 2.0, 3.0, 0.0], (0.0, math.inf))
    assert (van["ci_low"], van["ci_high"]) == (ref.low, ref.high)
    assert s.loc[("wgan-gp", "modes"), "ci_low"] == s.loc[("wgan-gp", "modes"), "ci_high"] == 8.0
    # no baseline declared: vanilla by default; lsgan 6,7,8 beats 1,2,3,0 in every pair
    assert ring8.baseline == "vanilla" and s.loc[("lsgan", "modes"), "p_improve"] == 1.0
    # reverse KL: the diverged vanilla run is undefined there, so 3 vs 3 (lower is better)
    p_w, p_l = (permutation_p([0.1, 0.2, 0.3], [1.5, 1.2, 0.9]),
                permutation_p([0.5, 0.4, 0.3], [1.5, 1.2, 0.9]))
    assert s.loc[("wgan-gp", "reverse_kl"), "p_perm"] == pytest.approx(p_w) == pytest.approx(0.1)
    assert s.loc[("wgan-gp", "reverse_kl"), "p_holm"] == pytest.approx(max(2 * min(p_w, p_l),
                                                                           max(p_w, p_l)))
    counts = ring8.counts.set_index("variant")
    assert counts.loc["vanilla"].tolist() == [4, 3, 1, 0, 0]   # seeds, finished, diverged, flagged, incomplete
    assert counts.loc["lsgan"].tolist() == [4, 3, 0, 0, 1]
    assert ring8.budget == "budget 2.0e11 FLOPs per run"


def test_markdown_names_the_view_interval_and_baseline(ring8):
    text = benchmark_markdown(ring8)
    assert "| Variant | seeds | diverged | incomplete | Modes ↑ | High-quality ↑ | Reverse KL ↓ |" in text
    assert "| vanilla (baseline) | 4 | 1 | 0 | 1.5 [0.5, 2.5] (d=1) |" in text and "(u=1)" in text
    assert "percentile bootstrap" in text and "Holm" in text and "permutation" in text
    assert "each diverged run counted at the metric's worst value" in text
    assert "budget 2.0e11 FLOPs per run" in text


def test_latex_table(ring8):
    tex = benchmark_latex(ring8)
    assert r"\toprule" in tex and "8.00 (8.00–8.00)" in tex
    assert r"Reverse KL $\downarrow$" in tex and r"95 \%" in tex


def test_image_headers_and_seconds_budget(tmp_path):
    image_suite(tmp_path)
    table = build_tables(load_records(tmp_path))[0]
    assert table.primaries == ["fid/fmnist-cnn"]
    text = benchmark_markdown(table)
    assert "FID (FMNIST-CNN) ↓" in text and "IS (FMNIST-CNN) ↑" in text
    assert "budget 600 s of device time per run" in text
    fid = table.summary.set_index(["variant", "metric"]).loc[("lsgan", "fid/fmnist-cnn")]
    # two seeds 50, 70: resample means are 50, 60 or 70 (1/4, 1/2, 1/4)
    assert (fid["mean"], fid["ci_low"], fid["ci_high"]) == (60.0, 50.0, 70.0)


def test_literature_beside_ours(ring8):
    entry = LiteratureResult(dataset="ring8", method="GAN", source="Someone 2018, Table 9",
                             setting="their MLP", metrics={"modes": (6.5, 0.5)},
                             error="standard error over 10 trials")
    text = literature_markdown([ring8], [entry])
    assert "| GAN | Someone 2018, Table 9 | 6.5 ± 0.5 |" in text
    assert "| wgan-gp (ours) | this report | 8.00 (8.00–8.00) |" in text
    assert "no literature numbers" in literature_markdown([ring8], [])


def test_all_diverged_variant_keeps_its_row(tmp_path):
    from tests.test_report_records import make_record, write_record
    write_record(tmp_path, make_record("ring8", "a", 0, {"modes": 8}))
    write_record(tmp_path, make_record("ring8", "b", 0, {"modes": math.nan}))
    table = build_tables(load_records(tmp_path))[0]
    assert "| b | 1 | 1 | 0 | 0.00 (n=1) (d=1) |" in benchmark_markdown(table)
    finished = build_tables(load_records(tmp_path), view="finished")[0]
    assert "| b | 1 | 1 | 0 | — |" in benchmark_markdown(finished)
    assert isinstance(table.summary, pd.DataFrame)
