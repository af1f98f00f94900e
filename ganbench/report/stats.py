"""Statistics over seeds: t-intervals, Welch's test against the best, Holm.

Seeds are few (typically 3-5), so the interval is Student-t, not normal, and
the test is Welch's (no equal-variance assumption: a stable and an unstable
variant rarely share a variance). Each column compares every variant with the
best one, so its p-values are Holm-Bonferroni corrected over those comparisons.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .naming import higher_is_better, sort_metrics

CONFIDENCE = 0.95
ALPHA = 0.05
SUMMARY_COLUMNS = ["variant", "metric", "n", "mean", "sd", "half_width", "ci_low", "ci_high",
                   "best", "p_welch", "p_holm", "significant"]
COUNT_COLUMNS = ["variant", "seeds", "finished", "diverged", "incomplete"]


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, int]:
    """(mean, half-width, n) of a Student-t interval for the mean.

    The half-width is ``t_{(1+c)/2, n-1} * sd / sqrt(n)`` with the sample sd
    (ddof=1); it is NaN for fewer than two values, where no interval exists.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, n
    sd = float(x.std(ddof=1))
    return mean, float(stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)), n


def welch_p(a, b) -> float:
    """Two-sided p-value of Welch's t-test; NaN when a group has < 2 values.

    When both groups have zero variance the statistic is undefined; we return
    0 when the means differ (e.g. 8/8/8 modes against 1/1/1) and 1 when not.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        return math.nan
    if a.var() == 0 and b.var() == 0:
        return 1.0 if a.mean() == b.mean() else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values; NaN entries stay NaN, uncounted."""
    valid = sorted((p, k) for k, p in pvalues.items() if not math.isnan(p))
    m, running, out = len(valid), 0.0, {k: math.nan for k in pvalues}
    for i, (p, key) in enumerate(valid):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out


def run_counts(runs: pd.DataFrame) -> pd.DataFrame:
    """Per variant: records found, finished, diverged and incomplete runs."""
    rows = []
    for variant, group in runs.groupby("variant", sort=True):
        outcome = group["outcome"]
        rows.append({"variant": variant, "seeds": len(group),
                     "finished": int((outcome == "finished").sum()),
                     "diverged": int((outcome == "diverged").sum()),
                     "incomplete": int((outcome == "incomplete").sum())})
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def _best(means: dict[str, float], better) -> list[str]:
    finite = {v: m for v, m in means.items() if not math.isnan(m)}
    if better is None or not finite:
        return []
    target = (max if better else min)(finite.values())
    return sorted(v for v, m in finite.items() if m == target)


def _metric_rows(metric: str, values: dict[str, np.ndarray]) -> list[dict]:
    rows = {}
    for variant, x in values.items():
        mean, hw, n = t_interval(x)
        rows[variant] = {"variant": variant, "metric": metric, "n": n, "mean": mean,
                         "sd": float(np.std(x, ddof=1)) if n > 1 else math.nan,
                         "half_width": hw, "ci_low": mean - hw, "ci_high": mean + hw}
    best = _best({v: r["mean"] for v, r in rows.items()}, higher_is_better(metric))
    raw = {v: welch_p(values[v], values[best[0]]) for v in rows if best and v not in best}
    adjusted = holm(raw)
    for variant, row in rows.items():
        p_holm = adjusted.get(variant, math.nan)
        row.update(best=variant in best, p_welch=raw.get(variant, math.nan), p_holm=p_holm,
                   significant=bool(p_holm < ALPHA))
    return [rows[v] for v in sorted(rows)]


def summarize(finals: pd.DataFrame, variants) -> pd.DataFrame:
    """Mean, t-interval, best flag and test against the best, per variant x metric.

    ``finals`` holds the final metric of finished runs (one benchmark);
    ``variants`` lists every variant of the benchmark, so one whose runs all
    diverged still gets rows (n = 0) instead of vanishing.
    """
    rows = []
    for metric in sort_metrics(finals["metric"]):
        sub = finals[finals["metric"] == metric]
        values = {v: sub.loc[sub["variant"] == v, "value"].to_numpy(float) for v in variants}
        rows += _metric_rows(metric, values)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def rank_variants(summary: pd.DataFrame, primaries: list[str]) -> dict[str, int | None]:
    """Rank (1 = best) by the primary metrics in order; ties share a rank.

    Variants without a finished run on the first primary metric get None.
    """
    means = summary.pivot(index="variant", columns="metric", values="mean")
    if not primaries or primaries[0] not in means:
        return {v: None for v in means.index}

    def key(variant: str) -> tuple:
        parts = []
        for metric in primaries:
            m = means.at[variant, metric] if metric in means else math.nan
            sign = -1.0 if higher_is_better(metric) else 1.0
            parts.append(math.inf if math.isnan(m) else sign * m)
        return tuple(parts)

    ranked = sorted(means.index, key=lambda v: (key(v), v))
    out, previous, rank = {}, None, 0
    for position, variant in enumerate(ranked, start=1):
        if math.isnan(means.at[variant, primaries[0]]):
            out[variant] = None
            continue
        if key(variant) != previous:
            rank, previous = position, key(variant)
        out[variant] = rank
    return out
