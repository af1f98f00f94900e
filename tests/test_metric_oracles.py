"""Reference implementations as oracles on random data.

- density/coverage against the authors' ``prdc.compute_prdc`` (Naeem et al.
  2020), with as many fakes as reals nowhere (N != M);
- FID's closed form against scipy's ``sqrtm`` of the covariance product, with
  random covariances that do not commute;
- NDB's per-bin test against two-proportion z-tests computed here by hand,
  at z just above and just below the two-sided 5 % threshold 1.96.
"""

import math

import numpy as np
import prdc  # the test extra: pip install -e '.[test]'
import pytest
import scipy.linalg
import torch

from ganbench.metrics.fidelity import density_coverage, fid_from_statistics
from ganbench.metrics.ndb import different_bins


@pytest.mark.parametrize("n_real,n_fake,shift,k", [(200, 130, 0.5, 5), (90, 310, 1.0, 5), (150, 60, 0.0, 3)])
def test_density_and_coverage_match_prdc(n_real, n_fake, shift, k):
    rng = np.random.default_rng(n_real + n_fake)
    real = rng.normal(size=(n_real, 6))
    fake = rng.normal(size=(n_fake, 6)) * 1.3 + shift
    want = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    density, coverage = density_coverage(torch.from_numpy(fake), torch.from_numpy(real), k=k)
    assert density == pytest.approx(want["density"], rel=1e-12)
    assert coverage == pytest.approx(want["coverage"], rel=1e-12)
    assert 0 < coverage < 1 and density > 0  # a case where both numbers carry information


def random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_fid_matches_scipy_sqrtm_on_non_commuting_covariances():
    rng = np.random.default_rng(0)
    d = 7
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    assert not np.allclose(s1 @ s2, s2 @ s1)  # the case diagonal covariances never reach
    want = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1 @ s2).real)
    got = fid_from_statistics({"mu": mu1, "sigma": s1}, {"mu": mu2, "sigma": s2})
    assert got == pytest.approx(want, rel=1e-9)
    # Treating the covariances as if they commuted (sqrt(S1) sqrt(S2)) is measurably wrong here.
    commuting = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * scipy.linalg.sqrtm(s1) @ scipy.linalg.sqrtm(s2))
    assert abs(commuting - want) > 1e-3 * want


def hand_z_tests(p_real, n_real, p_fake, n_fake):
    """Pooled and unpooled z statistics of the two-proportion test, one bin."""
    pooled = (p_real * n_real + p_fake * n_fake) / (n_real + n_fake)
    z_pooled = (p_real - p_fake) / math.sqrt(pooled * (1 - pooled) * (1 / n_real + 1 / n_fake))
    z_unpooled = (p_real - p_fake) / math.sqrt(p_real * (1 - p_real) / n_real + p_fake * (1 - p_fake) / n_fake)
    return z_pooled, z_unpooled


def two_sided_p(z):
    return math.erfc(abs(z) / math.sqrt(2))


# Real bin proportion 0.1 of 1000 images against c / 200 generated ones.
N_REAL, N_FAKE, P_REAL = 1000, 200, 0.1
NEAR_THRESHOLD = [
    # (generated count, pooled z, unpooled z): the verdict must follow the pooled two-sided test.
    (11, 2.0051, 2.4058),  # just above 1.96: different
    (12, 1.7752, 2.0739),  # below 1.96 (above the one-sided 1.645); unpooled would say different
    (29, -1.8755, -1.6890),  # |z| below 1.96, above 1.645: not different
    (30, -2.0769, -1.8538),  # |z| just above 1.96 on the negative side; unpooled would say same
]


def test_ndb_bins_follow_the_pooled_two_sided_z_test_near_the_threshold():
    counts = [c for c, _, _ in NEAR_THRESHOLD]
    expected = []
    for count, z_pooled, z_unpooled in NEAR_THRESHOLD:
        zp, zu = hand_z_tests(P_REAL, N_REAL, count / N_FAKE, N_FAKE)
        assert (round(zp, 4), round(zu, 4)) == (z_pooled, z_unpooled)
        assert 1.5 < abs(zp) < 2.1  # every case is near the threshold
        expected.append(two_sided_p(zp) < 0.05)
    assert expected == [True, False, False, True]
    p_real = torch.full((len(counts),), P_REAL, dtype=torch.float64)
    p_fake = torch.tensor(counts, dtype=torch.float64) / N_FAKE
    assert different_bins(p_real, N_REAL, p_fake, N_FAKE).tolist() == expected
