"""Do two result sets draw the same conclusions? (``ganbench compare``)

A rerun on another machine, or with other seeds, changes every number; what
has to survive is what the report concludes from them (issue 12):

- each variant against the benchmark's baseline, per metric: **better** or
  **worse** (Holm p < 0.05, on the side of P(X better than Y)), or **not
  separated** (no †). A verdict *held* when both sets give the same one;
- compute-to-target: whether the median over seeds is finite (most seeds
  reached the target) in both, with the count of seeds that never did.

Means are shown beside their verdicts, flagged where neither set's mean lies
inside the other's interval: a hint that the intervals, drawn from a few
seeds, were narrower than the spread between seed sets.
"""

from __future__ import annotations

import math

import pandas as pd

from .stats import ALPHA
from .tables import BenchmarkTable, format_interval, sci

VERDICT_COLUMNS = ["benchmark", "variant", "metric", "primary", "verdict_a", "verdict_b", "held",
                   "mean_a", "ci_a", "mean_b", "ci_b", "means_apart"]
TARGET_COLUMNS = ["benchmark", "variant", "median_a", "never_a", "median_b", "never_b", "held"]


def verdict(row) -> str:
    """``better`` / ``worse`` than the baseline (significant), else ``not separated``."""
    if row["baseline"]:
        return "baseline"
    p = row["p_holm"]
    if isinstance(p, float) and math.isnan(p):
        return "untested"
    if p < ALPHA:
        return "better" if row["p_improve"] > 0.5 else "worse"
    return "not separated"


def _apart(a, b) -> bool:
    """Neither mean inside the other's interval (False where an interval is missing)."""
    if any(math.isnan(x) for x in (a["mean"], a["ci_low"], b["mean"], b["ci_low"])):
        return False
    return not (a["ci_low"] <= b["mean"] <= a["ci_high"] or b["ci_low"] <= a["mean"] <= b["ci_high"])


def _paired(a: list[BenchmarkTable], b: list[BenchmarkTable]):
    """(table of A, table of B) for every benchmark both sets hold, in A's order."""
    tables_b = {t.benchmark: t for t in b}
    return [(t, tables_b[t.benchmark]) for t in a if t.benchmark in tables_b]


def compare_verdicts(a: list[BenchmarkTable], b: list[BenchmarkTable]) -> pd.DataFrame:
    """One row per benchmark x variant x metric present in both sets."""
    rows = []
    for table_a, table_b in _paired(a, b):
        sb = table_b.summary.set_index(["variant", "metric"])
        for ra in table_a.summary.to_dict("records"):
            key = (ra["variant"], ra["metric"])
            if key not in sb.index:
                continue
            rb = sb.loc[key]
            va, vb = verdict(ra), verdict(rb)
            rows.append({"benchmark": table_a.benchmark, "variant": key[0], "metric": key[1],
                         "primary": key[1] in table_a.primaries[:1],
                         "verdict_a": va, "verdict_b": vb, "held": va == vb,
                         "mean_a": ra["mean"], "ci_a": (ra["ci_low"], ra["ci_high"], ra["n"]),
                         "mean_b": rb["mean"], "ci_b": (rb["ci_low"], rb["ci_high"], rb["n"]),
                         "means_apart": _apart(ra, rb)})
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def compare_targets(a: list[BenchmarkTable], b: list[BenchmarkTable]) -> pd.DataFrame:
    """Compute-to-target per benchmark x variant in both sets: finite median in both, or in neither."""
    rows = []
    for table_a, table_b in _paired(a, b):
        if table_a.to_target is None or table_b.to_target is None:
            continue
        tb = table_b.to_target.set_index("variant")
        for ra in table_a.to_target.to_dict("records"):
            if ra["variant"] not in tb.index:
                continue
            rb = tb.loc[ra["variant"]]
            rows.append({"benchmark": table_a.benchmark, "variant": ra["variant"],
                         "median_a": ra["flops"], "never_a": f"{int(ra['never'])} of {int(ra['runs'])}",
                         "median_b": rb["flops"], "never_b": f"{int(rb['never'])} of {int(rb['runs'])}",
                         "held": math.isfinite(ra["flops"]) == math.isfinite(rb["flops"])})
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)


def agreement_markdown(verdicts: pd.DataFrame, targets: pd.DataFrame, name_a: str,
                       name_b: str) -> str:
    """Counts of verdicts held, then every verdict that changed, then compute-to-target."""
    out = [f"# Conclusions of {name_a} (A) against {name_b} (B)", ""]
    # a comparison counts where both sets test it (each side 2+ seeds with a value)
    both = ~verdicts["verdict_a"].isin(["baseline", "untested"]) \
        & ~verdicts["verdict_b"].isin(["baseline", "untested"])
    for bench, sub in verdicts.groupby("benchmark", sort=True):
        tested = sub[both[sub.index]]
        one_sided = int((sub["verdict_a"].eq("untested") ^ sub["verdict_b"].eq("untested")).sum())
        primary = tested[tested["primary"]]
        out.append(f"- **{bench}**: {int(tested['held'].sum())} of {len(tested)} comparisons with "
                   f"the baseline held" + (f" ({one_sided} tested in one set only)" if one_sided
                                          else "")
                   + (f", {int(primary['held'].sum())} of {len(primary)} on the primary metric "
                      f"({primary['metric'].iloc[0]})" if len(primary) else "")
                   + f"; {int(sub['means_apart'].sum())} of {len(sub)} means lie outside each "
                   "other's interval.")
    changed = verdicts[both & ~verdicts["held"]]
    out += ["", "Changed verdicts (Holm p < 0.05 on either side):" if len(changed) else
            "No verdict changed.", ""]
    if len(changed):
        out += ["| benchmark | variant | metric | A | B | mean A | mean B |",
                "| :-- | :-- | :-- | :-- | :-- | --: | --: |"]
        out += [f"| {r.benchmark} | {r.variant} | {r.metric} | {r.verdict_a} | {r.verdict_b} | "
                f"{format_interval(r.mean_a, *r.ci_a)} | {format_interval(r.mean_b, *r.ci_b)} |"
                for r in changed.itertuples()]
    if len(targets):
        out += ["", "Compute to target (median FLOPs over seeds; ∞ once half never reached it):", "",
                "| benchmark | variant | A | never (A) | B | never (B) | held |",
                "| :-- | :-- | --: | --: | --: | --: | :-- |"]
        out += [f"| {r.benchmark} | {r.variant} | {sci(r.median_a)} | {r.never_a} | "
                f"{sci(r.median_b)} | {r.never_b} | {'yes' if r.held else 'no'} |"
                for r in targets.itertuples()]
    return "\n".join(out) + "\n"
