"""Per-benchmark result tables and the cross-benchmark ranking, as data.

Everything here is numbers and plain strings; `render.py` turns them into
Markdown or LaTeX, `write.py` into files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .load import Records
from .naming import arrow, metric_label, primary_metrics
from .stats import rank_variants, run_counts, summarize

CAPTION_STATS = (
    "Mean ± 95 % confidence interval over seeds (Student-t interval, n-1 degrees of "
    "freedom) of each run's final metrics. Bold: best mean in the column. †: differs "
    "from the best at p < 0.05 by Welch's t-test, Holm-Bonferroni corrected across the "
    "variants compared in that column (no test where a group has fewer than 2 runs). "
    "seeds: runs found; diverged: runs that diverged in training or have non-finite "
    "final metrics; incomplete: runs still running, interrupted, failed or not yet "
    "scored. Means use finished runs only; (n=k) marks a cell with fewer runs than that.")


@dataclass
class BenchmarkTable:
    """One benchmark's numbers: run counts, per-metric statistics, ranking."""

    benchmark: str
    dataset: str
    budget: str
    budget_unit: str
    counts: pd.DataFrame
    summary: pd.DataFrame
    metrics: list[str]
    primaries: list[str]
    ranks: dict[str, int | None]

    @property
    def variants(self) -> list[str]:
        """Variant names of this benchmark, sorted."""
        return list(self.counts["variant"])


def sci(x: float) -> str:
    """``2e11`` -> ``"2.0e11"``: compact, fixed scientific notation."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _one_budget(unit: str, limit: float, max_g_steps) -> str:
    text = {"flops": f"{sci(limit)} FLOPs", "seconds": f"{limit:g} s of device time",
            "epochs": f"{limit:g} epochs", "g_steps": f"{limit:g} generator steps"}[unit]
    if isinstance(max_g_steps, (int, float)) and not isinstance(max_g_steps, bool):
        text += f", at most {int(max_g_steps)} generator steps"
    return text


def budget_text(runs: pd.DataFrame) -> str:
    """Caption text for the budget, e.g. ``"budget 2.0e11 FLOPs per run"``.

    Every variant of a benchmark should have had the same budget; when the
    records disagree the caption says so instead of picking one.
    """
    budgets = sorted({(u, l, None if pd.isna(g) else g) for u, l, g in
                      zip(runs["budget_unit"], runs["budget_limit"], runs["max_g_steps"])},
                     key=repr)
    texts = [_one_budget(*b) for b in budgets]
    if len(texts) == 1:
        return f"budget {texts[0]} per run"
    return "WARNING: budgets differ between runs: " + "; ".join(texts)


def _decimals(half_width: float, mean: float) -> int:
    # Two significant digits of the interval; the mean gets the same decimals.
    scale = half_width if half_width > 0 else abs(mean) / 10
    if scale == 0 or not math.isfinite(scale):
        return 2
    return min(6, max(0, 1 - math.floor(math.log10(scale))))


def format_estimate(mean: float, half_width: float, n: int) -> str:
    """``"2.0 ± 2.5"``; ``"7.00 (n=1)"`` without an interval; ``"—"`` when n = 0."""
    if n == 0 or math.isnan(mean):
        return "—"
    if math.isnan(half_width):
        return f"{mean:.{_decimals(0.0, mean)}f} (n={n})"
    d = _decimals(half_width, mean)
    return f"{mean:.{d}f} ± {half_width:.{d}f}"


def build_table(records: Records, benchmark: str) -> BenchmarkTable:
    """Statistics for one benchmark of (already selected) records."""
    runs = records.runs[records.runs["benchmark"] == benchmark]
    finals = records.finals[records.finals["benchmark"] == benchmark]
    counts = run_counts(runs)
    summary = summarize(finals, list(counts["variant"]))
    metrics = list(dict.fromkeys(summary["metric"]))
    primaries = primary_metrics(metrics)
    datasets = sorted(runs["dataset"].unique())
    return BenchmarkTable(
        benchmark=benchmark, dataset=", ".join(datasets), budget=budget_text(runs),
        # Curves' x axis: epoch / step budgets are drawn against FLOPs, always recorded.
        budget_unit="seconds" if sorted(runs["budget_unit"].unique())[0] == "seconds" else "flops", counts=counts,
        summary=summary, metrics=metrics, primaries=primaries,
        ranks=rank_variants(summary, primaries))


def build_tables(records: Records) -> list[BenchmarkTable]:
    """One :class:`BenchmarkTable` per benchmark, sorted by name."""
    return [build_table(records, b) for b in sorted(records.runs["benchmark"].unique())]


def csv_frame(table: BenchmarkTable) -> pd.DataFrame:
    """Long table for CSV: one row per variant x metric, every number kept."""
    frame = table.summary.merge(table.counts, on="variant", how="left")
    frame.insert(0, "benchmark", table.benchmark)
    frame.insert(3, "header", [metric_label(m) for m in frame["metric"]])
    frame["budget"] = table.budget
    return frame.sort_values(["variant", "metric"], kind="stable").reset_index(drop=True)


def _cell(row: pd.Series, finished: int) -> tuple[str, bool, bool]:
    text = format_estimate(row["mean"], row["half_width"], int(row["n"]))
    if 1 < row["n"] < finished:
        text += f" (n={int(row['n'])})"
    return text, bool(row["best"]), bool(row["significant"])


def display_rows(table: BenchmarkTable) -> tuple[list[str], list[list[tuple[str, bool, bool]]]]:
    """Header and rows of the display table; each cell is (text, best, significant)."""
    header = ["Variant", "seeds", "diverged", "incomplete"]
    header += [f"{metric_label(m)} {arrow(m)}".rstrip() for m in table.metrics]
    rows = []
    for count in table.counts.itertuples(index=False):
        row = [(count.variant, False, False), (str(count.seeds), False, False),
               (str(count.diverged), False, False), (str(count.incomplete), False, False)]
        sub = table.summary[table.summary["variant"] == count.variant].set_index("metric")
        row += [_cell(sub.loc[m], count.finished) for m in table.metrics]
        rows.append(row)
    return header, rows


def summary_frame(tables: list[BenchmarkTable]) -> pd.DataFrame:
    """Cross-benchmark ranking: one row per variant x benchmark."""
    rows = []
    for table in tables:
        primary = table.primaries[0] if table.primaries else None
        for variant in table.variants:
            mean = half = math.nan
            n = 0
            if primary is not None:
                hit = table.summary[(table.summary["variant"] == variant)
                                    & (table.summary["metric"] == primary)].iloc[0]
                mean, half, n = hit["mean"], hit["half_width"], int(hit["n"])
            rows.append({"variant": variant, "benchmark": table.benchmark,
                         "primary_metric": primary or "", "rank": table.ranks.get(variant),
                         "mean": mean, "half_width": half, "n": n})
    frame = pd.DataFrame(rows, columns=["variant", "benchmark", "primary_metric", "rank",
                                        "mean", "half_width", "n"])
    frame["rank"] = frame["rank"].astype("Int64")
    return frame.sort_values(["variant", "benchmark"], kind="stable").reset_index(drop=True)
