"""stability_summary: curve, best, final and the best-vs-final gap."""

import math

import pytest

from ganbench.metrics import MetricError, stability_summary


def snaps(values, metric="fid/fmnist-cnn"):
    return [{"fraction": (i + 1) / len(values), "metrics": {metric: v}} for i, v in enumerate(values)]


def test_lower_is_better_gap():
    out = stability_summary(snaps([50.0, 20.0, 10.0, 30.0]), "fid/fmnist-cnn", lower_is_better=True)
    assert out["curve"] == [[0.25, 50.0], [0.5, 20.0], [0.75, 10.0], [1.0, 30.0]]
    assert (out["best"], out["best_fraction"], out["final"]) == (10.0, 0.75, 30.0)
    assert out["gap"] == 20.0 and out["relative_gap"] == 2.0
    assert out["nonfinite_at"] is None


def test_higher_is_better_and_unordered_snapshots():
    s = snaps([0.2, 0.9, 0.7], metric="coverage/fmnist-cnn")[::-1]
    out = stability_summary(s, "coverage/fmnist-cnn", lower_is_better=False)
    assert out["best"] == 0.9 and out["final"] == 0.7
    assert out["gap"] == pytest.approx(0.2)


def test_nonfinite_values_mark_divergence():
    out = stability_summary(snaps([40.0, 30.0, math.nan]), "fid/fmnist-cnn", lower_is_better=True)
    assert out["best"] == 30.0 and out["gap"] is None
    assert out["nonfinite_at"] == 1.0
    assert math.isnan(out["final"])


def test_missing_metric_is_clear_error():
    with pytest.raises(MetricError, match="no snapshot"):
        stability_summary(snaps([1.0]), "kid/fmnist-cnn", lower_is_better=True)
    partial = snaps([1.0, 2.0]) + [{"fraction": 1.5, "metrics": {}}]
    assert stability_summary(partial, "fid/fmnist-cnn", True)["final"] == 2.0
