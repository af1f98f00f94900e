"""Permutation test of the probability of improvement, exact wherever affordable.

The statistic P(X > Y) + P(X = Y)/2 is the Mann-Whitney U over n_x * n_y, so
for every relabelling of the pooled seeds it is a sum of midranks: twice that
sum is an integer, and tails compare exactly (no float tolerance). Up to
``MAX_EXACT`` relabellings (10 seeds against 10: C(20, 10) = 184,756) every one
is enumerated, vectorised over the combinations; beyond, ``N_RANDOM`` random
ones (scipy's ``permutation_test``), whose p can go no lower than
2/(N_RANDOM + 1), a floor of the method, not of the data.

Separability: the smallest p a design allows is complete separation, the one
labelling as extreme in its tail, so p >= 2/C(n_x + n_y, n_x); after Holm over
m comparisons the best one can reach is m times that. When that is >= 0.05
the seeds cannot show a difference however the runs turn out.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import chain, combinations
from math import comb

import numpy as np
from scipy import stats

MAX_EXACT = 1_000_000   # relabellings enumerated (10 v 10 = 184,756; 12 v 12 = 2.7e6 is random)
N_RANDOM = 10_000       # random relabellings beyond that
SEED = 0


def exact(n_x: int, n_y: int) -> bool:
    """Whether n_x seeds against n_y are tested over every relabelling."""
    return comb(n_x + n_y, n_x) <= MAX_EXACT


def raw_floor(n_x: int, n_y: int) -> float:
    """The smallest two-sided p the test can give for n_x seeds against n_y."""
    if n_x < 2 or n_y < 2:
        return math.nan
    return 2 / comb(n_x + n_y, n_x) if exact(n_x, n_y) else 2 / (N_RANDOM + 1)


@lru_cache(maxsize=8)
def _subsets(n: int, k: int) -> np.ndarray:
    """Every k-subset of range(n) as a boolean (C(n, k), n) matrix (~2 MB at 10 v 10)."""
    idx = np.fromiter(chain.from_iterable(combinations(range(n), k)), dtype=np.int64,
                      count=comb(n, k) * k).reshape(-1, k)
    mask = np.zeros((len(idx), n), dtype=bool)
    np.put_along_axis(mask, idx, True, axis=1)
    return mask


def _twice_rank_sums(x: np.ndarray, y: np.ndarray) -> tuple[int, np.ndarray]:
    """(observed, every relabelling's) twice the midrank sum of the first group."""
    ranks2 = np.rint(2 * stats.rankdata(np.concatenate([x, y]))).astype(np.int64)
    null = _subsets(x.size + y.size, x.size).astype(np.int64) @ ranks2
    return int(ranks2[: x.size].sum()), null


def improvement_statistic(x, y, axis=-1):
    """P(X > Y) + P(X = Y)/2 over all pairs, vectorised over leading axes."""
    x, y = np.moveaxis(np.asarray(x), axis, -1), np.moveaxis(np.asarray(y), axis, -1)
    gt = (x[..., :, None] > y[..., None, :]).mean(axis=(-2, -1))
    eq = (x[..., :, None] == y[..., None, :]).mean(axis=(-2, -1))
    return gt + 0.5 * eq


def permutation_p(x, y) -> float:
    """Two-sided permutation p of P(X > Y): 2 x the smaller tail, at most 1; never 0.

    NaN (no test) when a group has fewer than 2 seeds; 1 when the groups
    together hold one value.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size < 2 or y.size < 2:
        return math.nan
    both = np.concatenate([x, y])
    if np.all(both == both[0]):
        return 1.0
    if exact(x.size, y.size):
        observed, null = _twice_rank_sums(x, y)
        tail = min(np.count_nonzero(null <= observed), np.count_nonzero(null >= observed))
        return min(1.0, 2 * tail / null.size)
    res = stats.permutation_test((x, y), improvement_statistic, permutation_type="independent",
                                 alternative="two-sided", vectorized=True, n_resamples=N_RANDOM,
                                 rng=np.random.default_rng(SEED))
    return float(res.pvalue)


def permutation_method(n_x: int, n_y: int) -> str:
    """How n_x seeds against n_y are tested, and the smallest p the method can give."""
    total = comb(n_x + n_y, n_x)
    if exact(n_x, n_y):
        return (f"{n_x} seeds against {n_y}: exact over all {total:,} relabellings, "
                f"so p ≥ 2/{total:,} = {2 / total:.2g}")
    return (f"{n_x} seeds against {n_y}: {N_RANDOM:,} random relabellings (seed {SEED}) of "
            f"the {total:,}, so p ≥ 2/{N_RANDOM + 1:,} = {2 / (N_RANDOM + 1):.1g}, "
            "a floor of the method, not of the data")
