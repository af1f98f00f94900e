"""Known answers for the mode-collapse metrics (2-D mixtures, class and stacked-mode histograms)."""

import math

import pytest
import torch

from ganbench.datasets import load_dataset
from ganbench.metrics import POINT_SAMPLES, MetricError, score_points
from ganbench.metrics.modes import class_metrics, kl_divergence, stacked_mode_metrics


@pytest.fixture(scope="module")
def ring8():
    return load_dataset("ring8", "test")


def test_perfect_ring8_sampler_at_the_centres(ring8):
    centers = ring8.info.centers
    fake = centers[torch.arange(POINT_SAMPLES) % 8]  # 313 or 312 per mode
    out = score_points(fake, ring8.info)
    assert out["modes"] == 8
    assert out["high_quality"] == 100.0
    assert out["reverse_kl"] == pytest.approx(0.0, abs=1e-5)


def test_true_ring8_samples(ring8):
    out = score_points(ring8.data[:POINT_SAMPLES], ring8.info)
    assert out["modes"] == 8
    # P(|x - mu| < 3 std) for a 2-D isotropic Gaussian = 1 - exp(-9/2) = 98.89 %
    assert out["high_quality"] == pytest.approx(100 * (1 - math.exp(-4.5)), abs=1.0)
    assert out["reverse_kl"] < 0.01  # multinomial noise only: about (M - 1) / (2N) = 0.0014


def test_collapsed_onto_one_mode(ring8):
    fake = ring8.info.centers[3].repeat(POINT_SAMPLES, 1) + 0.001
    out = score_points(fake, ring8.info)
    assert out["modes"] == 1
    assert out["high_quality"] == 100.0
    assert out["reverse_kl"] == pytest.approx(math.log(8))


def test_between_modes_are_low_quality(ring8):
    # midpoints between neighbouring modes are ~38 std away from both
    c = ring8.info.centers
    fake = torch.cat([(c + c.roll(1, 0)) / 2, c[:1]])
    out = score_points(fake, ring8.info)
    assert out["modes"] == 1 and out["high_quality"] == pytest.approx(100 / 9)


def test_grid25_and_nonfinite_points():
    grid = load_dataset("grid25", "test")
    out = score_points(grid.data[:POINT_SAMPLES], grid.info)
    assert out["modes"] == 25
    nan = torch.full((10, 2), math.nan)
    out = score_points(nan, grid.info)
    # no high-quality sample: reverse KL is undefined (None), not ln 25 (a perfect collapse)
    assert out == {"modes": 0.0, "high_quality": 0.0, "reverse_kl": None}


def test_score_points_bad_input(ring8):
    with pytest.raises(MetricError, match="empty"):
        score_points(torch.zeros(0, 2), ring8.info)
    with pytest.raises(MetricError, match=r"\[N, 2\]"):
        score_points(torch.zeros(5, 3), ring8.info)


def test_class_metrics():
    real = torch.arange(1000) % 10
    same = class_metrics(real.clone(), real, 10)
    assert same == {"classes_covered": 10.0, "class_kl": 0.0}
    collapsed = class_metrics(torch.full((500,), 4), real, 10)
    assert collapsed["classes_covered"] == 1.0
    assert collapsed["class_kl"] == pytest.approx(math.log(10))


def test_stacked_modes():
    all_modes = stacked_mode_metrics(torch.arange(5000) % 1000)
    assert all_modes == {"modes": 1000.0, "reverse_kl": pytest.approx(0.0, abs=1e-12)}
    ten = stacked_mode_metrics(torch.arange(5000) % 10)
    assert ten["modes"] == 10.0 and ten["reverse_kl"] == pytest.approx(math.log(100))


def test_kl_divergence_infinite_when_support_missing():
    assert kl_divergence(torch.tensor([1.0, 1.0]), torch.tensor([1.0, 0.0])) == math.inf
