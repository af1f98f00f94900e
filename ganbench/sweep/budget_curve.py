"""The expected best score after k trials (Lucic et al. 2018, the "budget" curve).

Given the scores of N trials of one variant, the curve answers: "had I run only
k of these trials, what best score should I expect?". It is computed exactly,
without resampling, from the order statistics: drawing k of the N trials
without replacement, the best of them is the i-th smallest score s_(i) with
probability C(i-1, k-1) / C(N, k), so

    E[best of k] = sum_{i=k..N} C(i-1, k-1) / C(N, k) * s_(i)

(e.g. scores [1, 2, 3]: E[best of 2] = (2 + 3 + 3) / 3). Ties are handled by
the same formula. The band is a percentile bootstrap over trials: the N trials
are resampled with replacement, the exact curve is recomputed for each
resample, and the 2.5 % / 97.5 % quantiles are taken; it shows how much the
curve could move had another N trials been drawn. The bootstrap generator is
seeded, so the band is reproducible.
"""

from __future__ import annotations

import math

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20180101  # fixed: the report must be a pure function of the records
BAND = (0.025, 0.975)


def order_weights(n: int) -> np.ndarray:
    """W[k-1, i-1] = P(the best of k draws without replacement is the i-th smallest of n)."""
    w = np.zeros((n, n))
    for k in range(1, n + 1):
        total = math.comb(n, k)
        for i in range(k, n + 1):
            w[k - 1, i - 1] = math.comb(i - 1, k - 1) / total  # exact integers, one rounding
    return w


def _curve_sorted(sorted_scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Exact curve(s) for ascending-sorted rows of scores; -inf entries allowed.

    -inf (a diverged trial without a finite floor) sorts first; it carries
    weight only while k <= the number of such trials, where the expectation
    is -inf: those entries are set to -inf explicitly (0 * inf would be NaN).
    """
    scores = np.atleast_2d(sorted_scores)
    bad = np.isneginf(scores)
    curves = np.where(bad, 0.0, scores) @ weights.T
    n_bad = bad.sum(axis=1)
    k = np.arange(1, scores.shape[1] + 1)
    curves[k[None, :] <= n_bad[:, None]] = -np.inf
    return curves


def expected_best_of_k(scores, higher_is_better: bool = True) -> np.ndarray:
    """E[best of k trials] for k = 1..N (index k-1), exactly, without replacement.

    ``scores`` may hold +-inf for failed trials on the bad side; NaN is rejected.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 1 or x.size == 0 or np.isnan(x).any():
        raise ValueError("expected_best_of_k needs a non-empty 1-D array of scores without NaN")
    sign = 1.0 if higher_is_better else -1.0
    if np.isposinf(sign * x).any():
        raise ValueError("an infinitely good score cannot be averaged")
    return sign * _curve_sorted(np.sort(sign * x), order_weights(x.size))[0]


def bootstrap_band(scores, higher_is_better: bool = True, resamples: int = BOOTSTRAP_RESAMPLES,
                   seed: int = BOOTSTRAP_SEED, band: tuple[float, float] = BAND) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) percentile-bootstrap band of the curve over trials, for k = 1..N."""
    sign = 1.0 if higher_is_better else -1.0
    x = sign * np.asarray(scores, dtype=float)
    n = x.size
    rng = np.random.default_rng(seed)
    samples = np.sort(x[rng.integers(0, n, size=(resamples, n))], axis=1)
    curves = _curve_sorted(samples, order_weights(n))
    # "inverted_cdf" picks observed values: no interpolation between -inf and a number.
    low, high = (np.quantile(curves, q, axis=0, method="inverted_cdf") for q in band)
    return (sign * low, sign * high) if higher_is_better else (sign * high, sign * low)
