"""Known answers for the feature-set metrics (FID, IS, KID, precision/recall, density/coverage)."""

import math

import numpy as np
import pytest
import torch

from ganbench.metrics import (
    MetricError,
    density_coverage,
    fid,
    fid_from_statistics,
    inception_score,
    kid,
    precision_recall,
)


def gaussian(n, mean, var, seed):
    g = torch.Generator().manual_seed(seed)
    mean, var = torch.as_tensor(mean, dtype=torch.float64), torch.as_tensor(var, dtype=torch.float64)
    return mean + var.sqrt() * torch.randn(n, len(mean), generator=g, dtype=torch.float64)


def test_identical_sets_fid_zero():
    x = gaussian(2000, [0.0] * 16, [1.0] * 16, seed=0).float()
    assert abs(fid(x, x.clone())) < 1e-6


def test_fid_closed_form_diagonal_statistics():
    # diagonal covariances: FID = |mu1 - mu2|^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 0 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0  # = 7
    got = fid_from_statistics({"mu": mu1, "sigma": np.diag(a)}, {"mu": mu2, "sigma": np.diag(b)})
    assert got == pytest.approx(expected, abs=1e-9)


def test_fid_from_samples_matches_closed_form():
    a, b = [1.0, 4.0], [4.0, 1.0]
    x, y = gaussian(200_000, [0.0, 0.0], a, seed=1), gaussian(200_000, [3.0, 0.0], b, seed=2)
    expected = 9 + (1 - 2) ** 2 + (2 - 1) ** 2  # = 11
    assert fid(x, y) == pytest.approx(expected, rel=0.01)


def test_identical_sets_precision_recall_density_coverage():
    x = gaussian(1000, [0.0] * 8, [1.0] * 8, seed=3).float()
    assert precision_recall(x, x.clone()) == (1.0, 1.0)
    density, coverage = density_coverage(x, x.clone())
    assert density == pytest.approx(1.0, abs=1e-9)  # open balls: exactly k points in each
    assert coverage == 1.0


def test_disjoint_sets_zero_precision_recall_coverage():
    real = gaussian(500, [0.0] * 8, [1.0] * 8, seed=4).float()
    fake = gaussian(500, [100.0] * 8, [1.0] * 8, seed=5).float()
    assert precision_recall(fake, real) == (0.0, 0.0)
    assert density_coverage(fake, real) == (0.0, 0.0)


def test_half_overlap_coverage_and_precision():
    real = gaussian(2000, [0.0] * 4, [1.0] * 4, seed=6).float()
    fake = torch.cat([gaussian(1000, [0.0] * 4, [1.0] * 4, seed=7).float(), real[:1000] + 1000.0])
    precision, _ = precision_recall(fake, real)
    density, coverage = density_coverage(fake, real)
    assert precision == pytest.approx(0.5, abs=0.05)
    assert density == pytest.approx(0.5, abs=0.1)
    assert 0.5 < coverage < 1.0


def test_kid_near_zero_for_same_distribution_and_large_for_shifted():
    x = gaussian(1000, [0.0] * 8, [1.0] * 8, seed=8).float()
    y = gaussian(1000, [0.0] * 8, [1.0] * 8, seed=9).float()
    z = gaussian(1000, [3.0] * 8, [1.0] * 8, seed=10).float()
    assert abs(kid(x, y, subset_size=200, subsets=20)) < 0.05
    assert kid(x, z, subset_size=200, subsets=20) > 1.0


def test_kid_subset_larger_than_samples_is_clear_error():
    x = gaussian(50, [0.0] * 4, [1.0] * 4, seed=11).float()
    with pytest.raises(MetricError, match="kid_subset_size"):
        kid(x, x, subset_size=100)


def test_inception_score_known_values():
    n, k = 1000, 10
    uniform_logits = torch.zeros(n, k)
    assert inception_score(uniform_logits) == pytest.approx(1.0, abs=1e-9)
    confident = 50.0 * torch.nn.functional.one_hot(torch.arange(n) % k, k).float()
    # exp(H(marginal of each split)); shuffled splits of 100 are only nearly uniform, so a bit below K
    assert 9.0 < inception_score(confident) <= k
    collapsed = 50.0 * torch.nn.functional.one_hot(torch.zeros(n, dtype=torch.long), k).float()
    assert inception_score(collapsed) == pytest.approx(1.0, abs=1e-6)


def test_too_few_samples_and_nonfinite_features():
    with pytest.raises(MetricError, match="at least"):
        fid(torch.zeros(1, 4), torch.zeros(10, 4))
    with pytest.raises(MetricError, match="NaN"):
        fid(torch.full((10, 4), math.nan), torch.zeros(10, 4))
    with pytest.raises(MetricError, match="IS needs"):
        inception_score(torch.zeros(5, 10))
