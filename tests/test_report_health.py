"""Runs the training-health check flagged are counted apart in the report: at the
metric's worst value (view "all"), left out (view "finished"), marked (h=k) and
counted in a "not training" column; records without a health block read as healthy."""

from __future__ import annotations

import math

from ganbench.report.load import load_records
from ganbench.report.render import benchmark_markdown
from ganbench.report.tables import build_tables
from tests.test_report_records import make_record, write_record

HEALTHY = {"ok": True, "flags": [], "thresholds": {}, "observed": {}}
FLAGGED = {"ok": False, "flags": [{"check": "zero_generator_gradient", "from_g_step": 1, "share": 1.0}],
           "thresholds": {}, "observed": {}}


def suite(root):
    """a: modes 8, 6 (healthy), 1 (flagged: did not train), NaN (diverged);
    b: one record from before the health block, one with a malformed block."""
    for seed, modes, extra in [(0, 8, {"health": HEALTHY}), (1, 6, {"health": HEALTHY}),
                               (2, 1, {"health": FLAGGED}), (3, math.nan, {"health": HEALTHY})]:
        write_record(root, make_record("ring8", "a", seed, {"modes": modes, "reverse_kl": 0.5}, **extra))
    write_record(root, make_record("ring8", "b", 0, {"modes": 5, "reverse_kl": 0.5}))
    write_record(root, make_record("ring8", "b", 1, {"modes": 7, "reverse_kl": 0.5}, health="garbled"))
    return load_records(root)


def test_flagged_run_is_its_own_outcome_and_old_records_read_as_healthy(tmp_path):
    runs = suite(tmp_path).runs.set_index(["variant", "seed"])["outcome"]
    assert runs.to_dict() == {("a", 0): "finished", ("a", 1): "finished", ("a", 2): "flagged",
                              ("a", 3): "diverged", ("b", 0): "finished", ("b", 1): "finished"}


def test_flagged_run_enters_at_the_worst_value_and_is_counted_apart(tmp_path):
    table = build_tables(suite(tmp_path))[0]
    counts = table.counts.set_index("variant")
    assert counts.loc["a"].to_dict() == {"seeds": 4, "finished": 2, "diverged": 1, "flagged": 1, "incomplete": 0}
    modes = table.summary.set_index(["variant", "metric"]).loc[("a", "modes")]
    assert (modes["n"], modes["worst_filled"], modes["mean"]) == (4, 2, 3.5)  # 8, 6, 0, 0: its 1 mode is not a result
    text = benchmark_markdown(table)
    assert "| Variant | seeds | diverged | not training | incomplete | Modes ↑ | Reverse KL ↓ |" in text
    assert "| a | 4 | 1 | 1 | 0 | 3.5 [" in text and "(d=1, h=1)" in text
    assert "0.500 (0.500–0.500) (u=2)" in text   # reverse KL has no worst value: undefined, not h/d
    assert "| b | 2 | 0 | 0 | 0 | 6.0 (5.0–7.0) |" in text
    assert "(h=k): k runs flagged by the training-health check" in text


def test_finished_view_leaves_flagged_runs_out(tmp_path):
    table = build_tables(suite(tmp_path), view="finished")[0]
    modes = table.summary.set_index(["variant", "metric"]).loc[("a", "modes")]
    assert (modes["n"], modes["worst_filled"], modes["mean"]) == (2, 0, 7.0)
    text = benchmark_markdown(table)
    assert "| a | 4 | 1 | 1 | 0 | 7.0 (6.0–8.0) |" in text and "h=" not in text  # 2 seeds: their range
    assert "not training: runs flagged by the training-health check" in text and "left out" in text


def test_no_flagged_run_no_column_and_no_caption(tmp_path):
    write_record(tmp_path, make_record("ring8", "b", 0, {"modes": 5}, health=HEALTHY))
    text = benchmark_markdown(build_tables(load_records(tmp_path))[0])
    assert "| Variant | seeds | diverged | incomplete | Modes ↑ |" in text
    assert "not training" not in text and "health" not in text
