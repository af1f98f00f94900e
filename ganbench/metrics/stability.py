"""Stability of one metric over a run: its curve over the budget, best, final, gap."""

from __future__ import annotations

import math

from ganbench.extractors.errors import MetricError


def stability_summary(snapshots: list[dict], metric: str, lower_is_better: bool) -> dict:
    """Summarise ``metric`` across a run record's ``snapshots`` (ordered by budget fraction).

    Returns ``curve`` ([[fraction, value], ...]), ``best`` and ``best_fraction``
    (over finite values), ``final`` (the last snapshot's value), ``gap`` (how much
    worse the final value is than the best, >= 0 in the metric's own units; None
    when the final or every value is non-finite), ``relative_gap`` (gap / |best|,
    None when undefined) and ``nonfinite_at`` (the first fraction whose value is
    NaN/inf, i.e. where the metric diverged; None if never). Snapshots without
    the metric (not scored) are skipped.
    """
    points = []
    for i, snap in enumerate(snapshots):
        value = (snap.get("metrics") or {}).get(metric)
        if value is not None:
            points.append((float(snap.get("fraction", i)), float(value)))
    if not points:
        raise MetricError(f"no snapshot has metric {metric!r}; score the run first or pick a metric it has")
    points.sort(key=lambda p: p[0])
    finite = [p for p in points if math.isfinite(p[1])]
    choose = min if lower_is_better else max
    best_fraction, best = choose(finite, key=lambda p: p[1]) if finite else (None, None)
    final = points[-1][1]
    gap = None
    if best is not None and math.isfinite(final):
        gap = final - best if lower_is_better else best - final
    return {
        "metric": metric,
        "lower_is_better": lower_is_better,
        "curve": [[f, v] for f, v in points],
        "best": best,
        "best_fraction": best_fraction,
        "final": final,
        "gap": gap,
        "relative_gap": gap / abs(best) if gap is not None and best else None,
        "nonfinite_at": next((f for f, v in points if not math.isfinite(v)), None),
    }
