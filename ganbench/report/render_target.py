"""The compute-to-target tables as Markdown: the cost from which the target held
(what the summary leads with), how many seeds ended the run meeting it, and the
first crossing beside it."""

from __future__ import annotations

import math

from ganbench.config.targets import target_text

from .coverage import is_range, kinds_note
from .markdown import markdown_table
from .tables import BenchmarkTable, sci

HEADER = ["Variant", "FLOPs to hold target", "seconds to hold target", "ended meeting it",
          "FLOPs to first reach", "never reached"]


def _cost(row, unit: str, count: str) -> str:
    if row["runs"] == 0:
        return "—"
    if row[count] == 0:
        return "never"
    fmt = sci if "flops" in unit else (lambda x: "∞" if math.isinf(x) else f"{x:.0f}")
    low, high = row[f"{unit}_low"], row[f"{unit}_high"]
    if math.isnan(low):
        return fmt(row[unit])
    sep = ("(", "–", ")") if is_range(int(row["runs"]), "median") else ("[", ", ", "]")
    return f"{fmt(row[unit])} {sep[0]}{fmt(low)}{sep[1]}{fmt(high)}{sep[2]}"


def target_rows(frame) -> list[list[str]]:
    """One row per variant: held cost (FLOPs, seconds), seeds ending at target, first cost."""
    return [[r["variant"], _cost(r, "held_flops", "ended"), _cost(r, "held_seconds", "ended"),
             f"{r['ended']} of {r['runs']}", _cost(r, "flops", "reached"),
             f"{r['never']} of {r['runs']}"] for _, r in frame.iterrows()]


def target_markdown(tables: list[BenchmarkTable]) -> str:
    """Compute-to-target: per benchmark and variant, median FLOPs and seconds to the target."""
    parts, seeds = [], set()
    for t in tables:
        if t.to_target is None:
            continue
        seeds |= set(t.to_target["runs"])
        text = markdown_table(HEADER, target_rows(t.to_target))
        parts.append(f"**{t.benchmark}**: target {target_text(t.target, t.real)}; "
                     f"{t.budget}.\n\n{text}" + (f"\n\n*Why this target: {t.target_note}*"
                                                  if t.target_note else ""))
    if not parts:
        return ""
    note = ("*Compute to reach each benchmark's declared quality target (MLPerf Training's "
            "time-to-quality). To hold: the budget snapshot from which every condition held "
            "at every later snapshot to the end of the run (a seed that ends the run below the "
            "target never held it); first reach: the first snapshot where every condition "
            "holds, which a run can lose again. Median over seeds "
            f"[{kinds_note('median', seeds)}]; a seed that never reached or held the target (or "
            "diverged, or was flagged as not training) counts as ∞, so the median is ∞ once half of them never did. "
            "Resolution: the snapshot spacing.*")
    return "\n\n".join(parts) + "\n\n" + note
