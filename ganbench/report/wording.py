"""Caption and cell wording that must match what a number is: the real-data row per
metric, interval kinds by seed count, separability of a comparison, and the seed
count of metrics that can be undefined."""

from __future__ import annotations

import math

from ganbench.metrics.naming import UNDEFINED_WHEN_EMPTY, metric_label, split_key

from .coverage import kinds_note
from .stats import ALPHA

# What the real-data value of each base metric is to a reader of its column.
_FLOOR = "a floor (the finite-sample bias of the protocol; no generator is expected below it)"
_NOISE = ("the sampling noise of the estimate at this sample count (a generator can score "
          "below it by chance)")
_REFERENCE = "a reference (what the data itself shows at this sample count)"
_NEITHER = ("neither floor nor ceiling (a generator that collapses onto a few typical "
            "samples can score above real data)")
REAL_ROW = {"fid": _FLOOR, "fd": _FLOOR, "kid": _NOISE, "reverse_kl": _NOISE, "class_kl": _NOISE,
            "jsd": _NOISE, "ndb": _NOISE, "modes": _REFERENCE, "coverage": _REFERENCE,
            "recall": _REFERENCE, "classes_covered": _REFERENCE, "is": _REFERENCE,
            "high_quality": _NEITHER, "precision": _NEITHER, "density": _NEITHER}

#: Marks a comparison whose seeds cannot reach p < ALPHA after Holm, however the runs turn out.
CANNOT_SEPARATE = "◇"


def real_row_note(metrics) -> str:
    """The real-data row, metric by metric: grouped by what its value means."""
    groups: dict[str, list[str]] = {}
    for m in metrics:
        meaning = REAL_ROW.get(split_key(m)[0], "shown for reference only (no stated meaning)")
        groups.setdefault(meaning, []).append(metric_label(m))
    parts = [f"for {', '.join(labels)}: {meaning}" for meaning, labels in groups.items()]
    return ("The real-data row scores held-out real samples the same way; "
            + "; ".join(parts) + "." if parts else "")


def separability_note(summary) -> str:
    """What ◇ means, with the smallest Holm p each seed-count pair allows."""
    tested = summary[summary["p_floor"].notna()]
    pairs: dict[tuple[int, int], set[float]] = {}
    for r in tested.itertuples():
        pairs.setdefault((int(r.n), int(r.n_baseline)), set()).add(float(r.p_floor))
    if not pairs:
        return ""
    said = "; ".join(f"{a} v {b} seeds: " + "–".join(f"{f:.2g}" for f in sorted({min(fs), max(fs)}))
                     for (a, b), fs in sorted(pairs.items(), reverse=True))
    return (f"Smallest p these seeds allow after Holm (complete separation): {said}. "
            f"{CANNOT_SEPARATE}: that smallest p is ≥ {ALPHA:g}, so these seeds cannot show a "
            "difference however the runs turn out; read P as description, not evidence.")


def separability_mark(row) -> str:
    """`` ◇`` where the design cannot reach significance, else ''."""
    floor = row["p_floor"]
    return f" {CANNOT_SEPARATE}" if isinstance(floor, float) and floor >= ALPHA else ""


def defined_note(metric: str, n: int, undefined: int) -> str:
    """`` (n=1 of 10)`` for a metric that can be undefined (reverse KL), else ''."""
    if split_key(metric)[0] not in UNDEFINED_WHEN_EMPTY:
        return ""
    return f" (n={n} of {n + undefined})"


def interval_caption(summary, method: str = "mean") -> str:
    """The interval kinds present among the summary's seed counts."""
    return kinds_note(method, [n for n in summary["n"] if not math.isnan(n)])
