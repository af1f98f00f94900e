"""Per-benchmark result tables and the cross-benchmark summary, as data.

Everything here is numbers and plain strings; `render.py` turns them into
Markdown or LaTeX, `write.py` into files. Two views of the runs:

- ``all`` (the default): a diverged run enters every metric at its worst value
  (0 modes, FID +inf; see ``naming.worst_value``), marked in the cell, so a
  variant that diverges often cannot look good by losing its failures; so does
  a run the training-health check flagged (it did not train), marked apart;
- ``finished``: finished runs only (survivorship view, for comparison).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ganbench.metrics.naming import metric_label, primary_metrics, worst_value

from .coverage import is_range
from .load import Records
from .stats import ALPHA, run_counts, summarize
from .target import cost_to_target, declared_target
from .wording import defined_note, separability_mark

VIEWS = {"all": "all runs, each diverged run counted at the metric's worst value",
         "finished": "finished runs only (diverged runs left out: survivorship view)"}
NOT_TRAINING = ("runs flagged by the training-health check (no generator gradient, a flat critic "
                "loss or a generator that never moved: their metrics score an untrained generator)")
DEFAULT_BASELINE = "vanilla"
CAPTION_STATS = (
    "Mean over seeds, clipped to the metric's range; one seed: no "
    "interval. (d=k): k diverged runs entered at the metric's worst value; (u=k): "
    "the metric is undefined for k runs (reverse KL with no high-quality sample), "
    "left out of its mean. seeds: runs found; diverged: runs "
    "that diverged in training or have non-finite final metrics; incomplete: "
    "running, interrupted, failed or not yet scored (left out).")


@dataclass
class BenchmarkTable:
    """One benchmark's numbers: run counts, per-metric statistics, real data, targets."""

    benchmark: str
    dataset: str
    budget: str
    budget_unit: str
    counts: pd.DataFrame
    summary: pd.DataFrame
    metrics: list[str]
    primaries: list[str]
    baseline: str | None = None
    view: str = "all"
    real: dict = field(default_factory=dict)
    real_what: str = ""
    target: tuple = ()
    target_note: str = ""
    to_target: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def variants(self) -> list[str]:
        """Variant names of this benchmark, sorted."""
        return list(self.counts["variant"])


def sci(x: float) -> str:
    """``2e11`` -> ``"2.0e11"``: compact, fixed scientific notation."""
    if not math.isfinite(x):
        return "∞" if x > 0 else "—"
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
    budgets = sorted({(u, limit, None if pd.isna(g) else g) for u, limit, g in
                      zip(runs["budget_unit"], runs["budget_limit"], runs["max_g_steps"])},
                     key=repr)
    texts = [_one_budget(*b) for b in budgets]
    if len(texts) == 1:
        return f"budget {texts[0]} per run"
    return "WARNING: budgets differ between runs: " + "; ".join(texts)


def _decimals(scale: float, mean: float) -> int:
    # Two significant digits of the interval width; the mean gets the same decimals.
    scale = scale if scale > 0 and math.isfinite(scale) else abs(mean) / 10
    if scale == 0 or not math.isfinite(scale):
        return 2
    return min(6, max(0, 1 - math.floor(math.log10(scale))))


def format_interval(mean: float, low: float, high: float, n: int) -> str:
    """``"2.0 [1.0, 3.0]"`` (a bootstrap); ``"2.0 (1.0–3.0)"`` (3 seeds or fewer: the
    range of the seeds, which the bootstrap reduces to); ``"7.00 (n=1)"`` without an
    interval; ``"—"`` when n = 0."""
    if n == 0 or math.isnan(mean):
        return "—"
    if math.isinf(mean):
        return "∞" if mean > 0 else "-∞"
    if math.isnan(low):
        return f"{mean:.{_decimals(0.0, mean)}f} (n={n})"
    d = _decimals((high - low) / 2, mean)
    if is_range(n):
        return f"{mean:.{d}f} ({low:.{d}f}–{high:.{d}f})"
    return f"{mean:.{d}f} [{low:.{d}f}, {high:.{d}f}]"


def format_value(value) -> str:
    """A single number (real-data row) with three significant digits."""
    if not isinstance(value, (int, float)) or math.isnan(value):
        return "undefined" if value is None else "—"
    return f"{value:.3g}"


def view_finals(records: Records, benchmark: str, metrics: list[str], view: str) -> pd.DataFrame:
    """Final values of one benchmark in a view: finished runs, plus (view "all") each
    diverged run at every metric's worst value, marked ``filled``."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose from {', '.join(VIEWS)}")
    finals = records.finals[records.finals["benchmark"] == benchmark].assign(filled=False)
    if view == "finished":
        return finals
    runs = records.runs[(records.runs["benchmark"] == benchmark)
                        & records.runs["outcome"].isin(["diverged", "flagged"])]
    extra = [{"benchmark": benchmark, "variant": r.variant, "seed": r.seed, "metric": m,
              "value": worst_value(m), "filled": True}
             for r in runs.itertuples(index=False) for m in metrics]
    return pd.concat([finals, pd.DataFrame(extra, columns=finals.columns)], ignore_index=True) \
        if extra else finals


def build_table(records: Records, benchmark: str, view: str = "all") -> BenchmarkTable:
    """Statistics for one benchmark of (already selected) records."""
    runs = records.runs[records.runs["benchmark"] == benchmark]
    declared = records.declared.get(benchmark, {})
    real = records.real.get(benchmark, {})
    selected = set(runs["variant"])
    wanted = [v for v in declared.get("variants", []) if v not in selected]
    counts = run_counts(runs)
    metrics_all = sorted(set(records.finals.loc[records.finals["benchmark"] == benchmark, "metric"]))
    finals = view_finals(records, benchmark, metrics_all, view)
    baseline = declared.get("baseline", DEFAULT_BASELINE)
    summary = summarize(finals, list(counts["variant"]), baseline if baseline in selected else None)
    metrics = list(dict.fromkeys(summary["metric"]))
    conditions, note = declared_target(declared)
    return BenchmarkTable(
        benchmark=benchmark, dataset=", ".join(sorted(runs["dataset"].unique())),
        # Curves' x axis: epoch / step budgets are drawn against FLOPs, always recorded.
        budget=budget_text(runs),
        budget_unit="seconds" if sorted(runs["budget_unit"].unique())[0] == "seconds" else "flops",
        counts=counts, summary=summary, metrics=metrics, primaries=primary_metrics(metrics),
        baseline=baseline if baseline in selected else None, view=view,
        real=real.get("metrics", {}), real_what=real.get("what", ""), target=conditions,
        target_note=note, missing=wanted,
        to_target=cost_to_target(records, benchmark, conditions, real.get("metrics", {}),
                                 list(counts["variant"])) if conditions else None)


def build_tables(records: Records, view: str = "all") -> list[BenchmarkTable]:
    """One :class:`BenchmarkTable` per benchmark, sorted by name."""
    return [build_table(records, b, view) for b in sorted(records.runs["benchmark"].unique())]


def csv_frame(table: BenchmarkTable) -> pd.DataFrame:
    """Long table for CSV: one row per variant x metric, every number kept."""
    frame = table.summary.merge(table.counts, on="variant", how="left")
    frame.insert(0, "benchmark", table.benchmark)
    frame.insert(3, "header", [metric_label(m) for m in frame["metric"]])
    frame["real_data"] = [table.real.get(m, math.nan) if table.real.get(m) is not None
                          else math.nan for m in frame["metric"]]
    frame["view"] = table.view
    frame["budget"] = table.budget
    return frame.sort_values(["variant", "metric"], kind="stable").reset_index(drop=True)


def _cell(row: pd.Series, flagged: int = 0) -> str:
    text = format_interval(row["mean"], row["ci_low"], row["ci_high"], int(row["n"]))
    # worst_filled counts diverged + flagged runs where the metric has a worst value, none where not
    h = flagged if row["worst_filled"] else 0
    d = int(row["worst_filled"]) - h
    marks = [f"d={d}" if d else "", f"h={h}" if h else "",
             f"u={int(row['undefined'])}" if row["undefined"] else ""]
    marks = [m for m in marks if m]
    return text + (f" ({', '.join(marks)})" if marks else "")


def display_rows(table: BenchmarkTable) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the main table: real data first, then every variant."""
    from ganbench.metrics.naming import arrow
    flagged = has_flagged(table)  # the column only where the health check flagged a run
    header = ["Variant", "seeds", "diverged"] + ["not training"] * flagged + ["incomplete"]
    header += [f"{metric_label(m)} {arrow(m)}".rstrip() for m in table.metrics]
    rows = []
    if table.real:
        rows.append(["real data"] + ["—"] * (3 + flagged) + [format_value(table.real.get(m, math.nan))
                                                           for m in table.metrics])
    for count in table.counts.itertuples(index=False):
        name = count.variant + (" (baseline)" if count.variant == table.baseline else "")
        row = [name, str(count.seeds), str(count.diverged)] + [str(count.flagged)] * flagged + [str(count.incomplete)]
        sub = table.summary[table.summary["variant"] == count.variant].set_index("metric")
        h = count.flagged if table.view == "all" else 0
        rows.append(row + [_cell(sub.loc[m], h) for m in table.metrics])
    return header, rows


def has_flagged(table: BenchmarkTable) -> bool:
    """Whether any run of the table did not train (health check); its caption and
    columns say so only then."""
    return bool(table.counts["flagged"].sum())


def flagged_caption(table: BenchmarkTable) -> str:
    """The caption's sentence on runs that did not train ("" when there are none)."""
    if not has_flagged(table):
        return ""
    if table.view == "all":
        return (f" (h=k): k {NOT_TRAINING} entered at the metric's worst value like diverged runs; "
                "not training: their count.")
    return f" not training: {NOT_TRAINING}, left out like diverged runs."


def format_improvement(row) -> str:
    """``"0.83 [0.44, 1.00] p=0.40"``: P(better than baseline), its interval, Holm p;
    ◇ where the seeds cannot reach significance; seed counts for reverse KL."""
    counted = (f" (n={int(row['n'])} v {int(row['n_baseline'])})"
               if defined_note(row.name, 1, 0) and not math.isnan(row["n_baseline"]) else "")
    p = row["p_improve"]
    if isinstance(p, float) and math.isnan(p):
        return "—" + counted
    text = f"{p:.2f}" + ("" if math.isnan(row["pi_low"]) else
                         f" [{row['pi_low']:.2f}, {row['pi_high']:.2f}]")
    if not math.isnan(row["p_holm"]):
        text += f" p={row['p_holm']:.2g}" + (" †" if row["p_holm"] < ALPHA else "")
    text += counted   # row.name: the metric (rows indexed by metric)
    return text + separability_mark(row)


def comparison_rows(table: BenchmarkTable) -> tuple[list[str], list[list[str]]]:
    """Every variant against the baseline: P(better) [CI] and Holm p, per metric."""
    from ganbench.metrics.naming import arrow
    header = ["Variant"] + [f"{metric_label(m)} {arrow(m)}".rstrip() for m in table.metrics]
    rows = []
    for variant in table.variants:
        if variant == table.baseline:
            continue
        sub = table.summary[table.summary["variant"] == variant].set_index("metric")
        rows.append([variant] + [format_improvement(sub.loc[m]) for m in table.metrics])
    return header, rows


def summary_frame(tables: list[BenchmarkTable]) -> pd.DataFrame:
    """Cross-benchmark summary: one row per variant x benchmark (primary metric)."""
    rows = []
    for table in tables:
        primary = table.primaries[0] if table.primaries else None
        for variant in table.variants:
            hit = table.summary[(table.summary["variant"] == variant)
                                & (table.summary["metric"] == primary)]
            h = hit.iloc[0] if len(hit) else None
            rows.append({"variant": variant, "benchmark": table.benchmark,
                         "primary_metric": primary or "", "view": table.view,
                         "baseline": table.baseline or "",
                         **{k: (h[k] if h is not None else math.nan) for k in
                            ("n", "mean", "ci_low", "ci_high", "p_improve", "pi_low", "pi_high",
                             "p_holm", "p_floor")},
                         "real_data": table.real.get(primary, math.nan) if primary else math.nan})
    frame = pd.DataFrame(rows, columns=["variant", "benchmark", "primary_metric", "view",
                                        "baseline", "n", "mean", "ci_low", "ci_high",
                                        "p_improve", "pi_low", "pi_high", "p_holm", "p_floor",
                                        "real_data"])
    return frame.sort_values(["variant", "benchmark"], kind="stable").reset_index(drop=True)
