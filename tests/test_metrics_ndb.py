"""NDB/JSD (Richardson & Weiss 2018): held-out real data is close, a missing class is not."""

import pytest
import torch

from ganbench.datasets import load_dataset
from ganbench.metrics import MetricError, fit_bins, ndb_jsd
from ganbench.metrics.ndb import different_bins, jensen_shannon

N = 3000  # per side: K-means on 3000 x 784 takes a few seconds on one thread
SANDAL = 5  # a visually distinct class, so its bins are nearly pure


@pytest.fixture(scope="module")
def fmnist_bins():
    test = load_dataset("fashion-mnist", "test")
    return fit_bins(test.data[:N])


def test_held_out_split_small_and_missing_class_large(fmnist_bins):
    train = load_dataset("fashion-mnist", "train")
    held = ndb_jsd(train.data[:N], fmnist_bins)
    missing = ndb_jsd(train.data[train.labels != SANDAL][:N], fmnist_bins)
    # at alpha = 0.05 about 5 % of bins differ by chance; removing 1 of 10 classes
    # empties roughly a tenth of the bins
    assert held["ndb"] <= 0.05
    assert missing["ndb"] >= 0.09
    assert missing["jsd"] > 3 * held["jsd"]


def test_same_images_give_zero(fmnist_bins):
    test = load_dataset("fashion-mnist", "test")
    out = ndb_jsd(test.data[:N], fmnist_bins)
    assert out["ndb"] == 0.0 and out["jsd"] == pytest.approx(0.0, abs=1e-12)


def test_two_proportion_test_and_jsd_known_values():
    p = torch.tensor([0.5, 0.5])
    assert not different_bins(p, 1000, p, 1000).any()
    assert different_bins(p, 1000, torch.tensor([0.6, 0.4]), 1000).all()  # z = 4.5
    assert not different_bins(p, 50, torch.tensor([0.52, 0.48]), 50).any()  # z = 0.2
    import math
    assert jensen_shannon(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])) == pytest.approx(math.log(2))


def test_too_few_real_images_for_bins():
    with pytest.raises(MetricError, match="K=100"):
        fit_bins(torch.zeros(50, 1, 28, 28, dtype=torch.uint8))
