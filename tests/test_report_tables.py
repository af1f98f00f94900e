"""Known-answer tests of the report's statistics and tables."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ganbench.report.literature import LiteratureResult
from ganbench.report.load import load_records
from ganbench.report.naming import metric_label, primary_metrics, sort_metrics
from ganbench.report.render import benchmark_latex, benchmark_markdown, literature_markdown
from ganbench.report.stats import holm, t_interval, welch_p
from ganbench.report.tables import build_tables, format_estimate, sci

from tests.test_report_records import image_suite, ring8_suite

T_0975_2 = 4.302652729749464   # Student-t 97.5 % quantile, 2 degrees of freedom (tables)
T_0975_1 = 12.706204736174707  # ... 1 degree of freedom


def test_t_interval_by_hand():
    mean, half, n = t_interval([1, 2, 3])
    assert (mean, n) == (2.0, 3)
    assert half == pytest.approx(T_0975_2 * 1 / math.sqrt(3), rel=1e-12)   # sd = 1
    assert math.isnan(t_interval([5.0])[1]) and t_interval([])[2] == 0


def test_welch_by_hand():
    a, b = [1.0, 2.0, 3.0], [6.0, 7.0, 9.0]
    va, vb = 1.0, 7 / 3                     # sample variances
    se2 = va / 3 + vb / 3
    t = (2.0 - 22 / 3) / math.sqrt(se2)
    df = se2 ** 2 / ((va / 3) ** 2 / 2 + (vb / 3) ** 2 / 2)   # Welch-Satterthwaite
    from scipy.stats import t as student
    assert welch_p(a, b) == pytest.approx(2 * student.sf(abs(t), df), rel=1e-10)
    assert math.isnan(welch_p([1.0], b))
    assert welch_p([8, 8, 8], [1, 1, 1]) == 0.0 and welch_p([8, 8], [8, 8]) == 1.0


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
    assert format_estimate(2.0, T_0975_2 / math.sqrt(3), 3) == "2.0 ± 2.5"
    assert format_estimate(0.0305, 0.006353, 2) == "0.0305 ± 0.0064"
    assert format_estimate(7.0, math.nan, 1) == "7.00 (n=1)"
    assert format_estimate(math.nan, math.nan, 0) == "—"
    assert sci(2.0e11) == "2.0e11"


@pytest.fixture
def ring8(tmp_path):
    ring8_suite(tmp_path)
    return build_tables(load_records(tmp_path))[0]


def test_ring8_table_numbers(ring8):
    s = ring8.summary.set_index(["variant", "metric"])
    van = s.loc[("vanilla", "modes")]
    assert (van["n"], van["mean"]) == (3, 2.0)
    assert van["half_width"] == pytest.approx(T_0975_2 / math.sqrt(3))
    assert van["ci_low"] == pytest.approx(2 - T_0975_2 / math.sqrt(3))
    assert s.loc[("wgan-gp", "modes"), "best"] and s.loc[("wgan-gp", "reverse_kl"), "best"]
    assert s.loc[("wgan-gp", "modes"), "half_width"] == 0.0
    # reverse KL: vanilla [1.5, 1.2, .9] vs best wgan-gp [.1, .2, .3], two comparisons
    p = welch_p([1.5, 1.2, 0.9], [0.1, 0.2, 0.3])
    p_lsgan = welch_p([0.5, 0.4, 0.3], [0.1, 0.2, 0.3])
    assert s.loc[("vanilla", "reverse_kl"), "p_welch"] == pytest.approx(p)
    # Holm over m = 2: the smaller p doubles; the larger keeps max(own, the first's)
    expected = 2 * p if p <= p_lsgan else max(2 * p_lsgan, p)
    assert s.loc[("vanilla", "reverse_kl"), "p_holm"] == pytest.approx(min(1.0, expected))
    counts = ring8.counts.set_index("variant")
    assert counts.loc["vanilla"].tolist() == [4, 3, 1, 0]      # seeds, finished, diverged, incomplete
    assert counts.loc["lsgan"].tolist() == [4, 3, 0, 1]
    assert ring8.ranks == {"wgan-gp": 1, "lsgan": 2, "vanilla": 3}
    assert ring8.budget == "budget 2.0e11 FLOPs per run"


def test_markdown_marks_best_and_significance(ring8):
    text = benchmark_markdown(ring8)
    assert "| Variant | seeds | diverged | incomplete | Modes ↑ | High-quality ↑ | Reverse KL ↓ |" in text
    assert "| vanilla | 4 | 1 | 0 | 2.0 ± 2.5 † |" in text
    assert "**8.00 ± 0.00**" in text
    assert "Student-t" in text and "Welch" in text and "Holm-Bonferroni" in text
    assert "budget 2.0e11 FLOPs per run" in text


def test_latex_table(ring8):
    tex = benchmark_latex(ring8)
    assert r"\textbf{8.00 $\pm$ 0.00}" in tex and r"\toprule" in tex
    assert r"Reverse KL $\downarrow$" in tex and r"95 \%" in tex and "p $<$ 0.05" in tex


def test_image_headers_and_seconds_budget(tmp_path):
    image_suite(tmp_path)
    table = build_tables(load_records(tmp_path))[0]
    assert table.primaries == ["fid/fmnist-cnn"]
    assert table.ranks == {"wgan-gp": 1, "vanilla": 2, "lsgan": 3}
    text = benchmark_markdown(table)
    assert "FID (FMNIST-CNN) ↓" in text and "IS (FMNIST-CNN) ↑" in text
    assert "budget 600 s of device time per run" in text
    fid = table.summary.set_index(["variant", "metric"]).loc[("lsgan", "fid/fmnist-cnn")]
    # [50, 70]: sd = 10 sqrt(2), half-width = t_{.975,1} * sd / sqrt(2) = 10 t
    assert fid["half_width"] == pytest.approx(T_0975_1 * 10)


def test_literature_beside_ours(ring8):
    entry = LiteratureResult(dataset="ring8", method="GAN", source="Someone 2018, Table 9",
                             setting="their MLP", metrics={"modes": (6.5, 0.5)},
                             error="standard error over 10 trials")
    text = literature_markdown([ring8], [entry])
    assert "| GAN | Someone 2018, Table 9 | 6.5 ± 0.5 |" in text
    assert "| wgan-gp (ours) | this report | 8.00 ± 0.00 |" in text
    assert "no literature numbers" in literature_markdown([ring8], [])


def test_all_diverged_variant_keeps_its_row(tmp_path):
    from tests.test_report_records import make_record, write_record
    write_record(tmp_path, make_record("ring8", "a", 0, {"modes": 8}))
    write_record(tmp_path, make_record("ring8", "b", 0, {"modes": math.nan}))
    table = build_tables(load_records(tmp_path))[0]
    assert table.ranks == {"a": 1, "b": None}
    assert "| b | 1 | 1 | 0 | — |" in benchmark_markdown(table)
    assert isinstance(table.summary, pd.DataFrame)
