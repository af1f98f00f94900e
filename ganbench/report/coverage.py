"""What the report's intervals actually cover, measured, and the labels that follow.

A percentile bootstrap asks for 95 %, but over few seeds it covers less. Over
3 seeds each end is the smallest or largest seed (P(all three resampled are the
minimum) = 1/27 > 2.5 %), so the interval *is* the range of the seeds, whose
coverage of a symmetric distribution's mean is 1 - 2 (1/2)^3 = 75 %. The table
below is what :func:`simulate` measures (2,000-4,000 replications, a normal and an
exponential distribution, the lower and higher of the two); the test
``tests/test_report_coverage.py`` re-measures it at 3, 5 and 10 seeds, so a
label cannot drift from what the interval does. Labels name that measured
coverage, never the nominal 95 %.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

#: method -> seeds -> (lower, higher) coverage over the normal and exponential cases.
COVERAGE = {
    "mean": {3: (0.70, 0.75), 5: (0.78, 0.85), 10: (0.85, 0.90)},
    "median": {3: (0.75, 0.75), 5: (0.94, 0.94), 10: (0.94, 0.94)},
    "improvement": {3: (0.77, 0.78), 5: (0.90, 0.91), 10: (0.93, 0.94)},
}
#: At or below this many seeds the 95 % percentile bootstrap is the seeds' range: for a
#: mean while (1/n)^n > 2.5 % (n <= 3); for a median up to 5 seeds (simulated: 100 %).
RANGE_SEEDS = {"mean": 3, "median": 5}


def is_range(n: int, method: str = "mean") -> bool:
    """Whether the interval of ``method`` over n seeds is their range (smallest to largest)."""
    return method in RANGE_SEEDS and 2 <= n <= RANGE_SEEDS[method]


def range_coverage(method: str, n: int) -> tuple[float, float]:
    """How often the range of n seeds covers the true value: measured where the table
    has n, else 1 - 2 (1/2)^n, exact for a median (and a symmetric distribution's mean)."""
    if n in COVERAGE[method]:
        return COVERAGE[method][n]
    exact = 1 - 2 * 0.5**n
    return exact, exact


def coverage(method: str, n: int) -> tuple[float, float]:
    """Measured coverage of ``method`` over n seeds: the entry for the largest
    measured count at or below n (coverage grows with n), (nan, nan) below 3."""
    measured = [k for k in COVERAGE[method] if k <= n]
    return COVERAGE[method][max(measured)] if measured else (math.nan, math.nan)


def _pct(low: float, high: float) -> str:
    a, b = round(100 * low), round(100 * high)
    return f"{a} %" if a == b else f"{a}–{b} %"


def interval_label(method: str, n: int) -> str:
    """What an interval over n seeds is, in words that match its coverage."""
    if n < 2:
        return "no interval"
    if is_range(n, method):
        return f"range of {n} seeds (covers ~{_pct(*range_coverage(method, n))})"
    low, high = coverage(method, n)
    if math.isnan(low):
        return f"percentile bootstrap over {n} seeds (coverage not measured below 3 seeds)"
    at = max(k for k in COVERAGE[method] if k <= n)
    return (f"percentile bootstrap over {n} seeds, ~{_pct(low, high)} coverage "
            f"(simulated at {at} seeds; nominal 95 %)")


def coverage_words(method: str) -> str:
    """``~70–75 % at 3 seeds (their range), ~78–85 % at 5, ~85–90 % at 10``."""
    parts = [f"~{_pct(*c)} at {n}" + (" seeds (their range)" if is_range(n, method) else "")
             for n, c in COVERAGE[method].items()]
    return ", ".join(parts)


def kinds_note(method: str, ns) -> str:
    """One clause per kind of interval among the seed counts ``ns``: ``(a–b)`` for a
    range, ``[a, b]`` for a bootstrap, so two kinds never share one label."""
    ns = sorted({int(n) for n in ns if n >= 2})
    ranges = [n for n in ns if is_range(n, method)]
    boots = [n for n in ns if not is_range(n, method)]
    parts = []
    if ranges:
        covers = ", ".join(f"~{_pct(*range_coverage(method, n))} at {n}" for n in ranges)
        parts.append(f"(a–b): the range of the seeds ({' or '.join(map(str, ranges))} seeds: the "
                     f"95 % percentile bootstrap is the range here; it covers the true value {covers})")
    parts += [f"[a, b] at {n} seeds: {interval_label(method, n)}" for n in boots]
    return "; ".join(parts) or "no intervals (fewer than 2 seeds)"


# --- simulation ------------------------------------------------------------------------------

def _draw(dist: str, rng, shape) -> tuple[np.ndarray, float, float]:
    """(samples, true mean, true median) of a known distribution."""
    if dist == "normal":
        return rng.normal(size=shape), 0.0, 0.0
    if dist == "exponential":
        return rng.exponential(size=shape), 1.0, math.log(2)
    raise ValueError(f"unknown distribution {dist!r}; use 'normal' or 'exponential'")


def _resample(x: np.ndarray, rng, b: int) -> np.ndarray:
    """(reps, b, n) bootstrap resamples of each row of x (reps, n)."""
    reps, n = x.shape
    idx = rng.integers(0, n, size=(reps, b, n), dtype=np.int16)
    return np.take_along_axis(x[:, None, :], idx, axis=2)


def simulate(method: str, n: int, dist: str, reps: int = 2000, b: int = 1000,
             seed: int = 0) -> float:
    """Fraction of ``reps`` intervals over n draws that hold the true value.

    Vectorised over replications: the same percentile rules as
    :mod:`.stats` (mean: interpolated percentiles; median: ``inverted_cdf``
    order statistics; improvement: each group resampled alone).
    """
    rng = np.random.default_rng(seed)
    x, mean, median = _draw(dist, rng, (reps, n))
    if method == "mean":
        boot = _resample(x, rng, b).mean(axis=2)
        low, high = np.percentile(boot, [2.5, 97.5], axis=1)
        return float(np.mean((low <= mean) & (mean <= high)))
    if method == "median":
        boot = np.median(_resample(x, rng, b), axis=2)
        low, high = np.quantile(boot, [0.025, 0.975], axis=1, method="inverted_cdf")
        return float(np.mean((low <= median) & (median <= high)))
    if method == "improvement":
        # X = Y's distribution shifted so that P(X > Y) = 0.7 exactly
        shift = math.sqrt(2) * stats.norm.ppf(0.7) if dist == "normal" else math.log(0.5 / 0.3)
        y = _draw(dist, rng, (reps, n))[0]
        bx, by = _resample(x + shift, rng, b), _resample(y, rng, b)
        p = (bx[..., :, None] > by[..., None, :]).mean(axis=(-2, -1))
        low, high = np.percentile(p, [2.5, 97.5], axis=1)
        return float(np.mean((low <= 0.7) & (0.7 <= high)))
    raise ValueError(f"unknown interval method {method!r}; use one of {', '.join(COVERAGE)}")
