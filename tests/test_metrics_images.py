"""score_images end to end on Fashion-MNIST with the shipped extractor, the cache, and bad input."""

import os

import pytest
import torch

from ganbench.datasets import load_dataset
from ganbench.metrics import MetricError, score_images
from ganbench.metrics import cache as feature_cache

N = 2000  # generated and real images: enough for stable numbers, a few seconds on one thread
EXT = "fmnist-cnn"


def noisy(images: torch.Tensor, fraction: float, seed: int = 0) -> torch.Tensor:
    """Add Gaussian pixel noise with std ``fraction`` of the 0..255 range."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(images.shape, generator=g) * fraction * 255
    return (images.float() + noise).round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def fmnist_test():
    return load_dataset("fashion-mnist", "test").data[:N]


@pytest.fixture(scope="module")
def module_cache(tmp_path_factory):
    """A cache directory for this module's fixtures (the autouse per-test one comes too late)."""
    path = tmp_path_factory.mktemp("feature-cache")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("GANBENCH_CACHE", str(path))
        yield path


@pytest.fixture(scope="module")
def scores(fmnist_test, module_cache):
    """Test images (as if generated) against the train split, clean and with 10 % noise."""
    kw = dict(real_split="train", n_real=N, kid_subset_size=500)
    clean = score_images(fmnist_test, "fashion-mnist", **kw)
    return clean, score_images(noisy(fmnist_test, 0.1), "fashion-mnist", **kw)


def test_all_keys_name_their_extractor(scores):
    clean, _ = scores
    assert set(clean) == {f"{m}/{EXT}" for m in ("fid", "is", "kid", "precision", "recall", "density", "coverage")} | {
        "classes_covered", "class_kl", "ndb", "jsd"}
    assert all(isinstance(v, float) for v in clean.values())


def test_real_test_split_is_close_to_train(scores):
    clean, _ = scores
    # measured 3.8 for 2000 vs 2000 (finite-sample bias; 0.69 for 10k vs 10k), 130 with 10 % noise
    assert clean[f"fid/{EXT}"] < 6.0
    assert clean[f"precision/{EXT}"] > 0.7 and clean[f"recall/{EXT}"] > 0.7
    assert clean[f"coverage/{EXT}"] > 0.8
    assert clean["classes_covered"] == 10 and clean["class_kl"] < 0.02
    assert clean[f"is/{EXT}"] > 7  # a 91 %-accurate classifier on balanced classes
    assert clean["ndb"] <= 0.1


def test_noise_makes_everything_worse(scores):
    clean, noise = scores
    assert noise[f"fid/{EXT}"] > 10 * clean[f"fid/{EXT}"]
    assert noise[f"kid/{EXT}"] > clean[f"kid/{EXT}"]
    assert noise[f"precision/{EXT}"] < clean[f"precision/{EXT}"]
    assert noise[f"density/{EXT}"] < clean[f"density/{EXT}"]
    # not NDB: zero-mean noise adds about the same squared distance to every bin
    # centre, so pixel-space bin assignments barely change (measured 0.03 vs 0.04)


def test_real_features_are_cached_under_the_extractor_sha(scores, module_cache):
    from ganbench.extractors import fmnist_cnn

    files = sorted(os.listdir(module_cache / "features"))
    assert f"fashion-mnist__train__n{N}__{EXT}__{fmnist_cnn.WEIGHTS_SHA256}__v1.pt" in files
    assert f"fashion-mnist__train__n{N}__ndb-k100-seed0__v1.pt" in files
    assert not [f for f in files if f.endswith(".tmp")]


def test_cache_hit_and_corrupt_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"x": torch.arange(3)}

    key = feature_cache.cache_key("d", "test", 3, "ext", "ab" * 32)
    assert feature_cache.load_or_compute(key, compute)["x"].tolist() == [0, 1, 2]
    assert feature_cache.load_or_compute(key, compute)["x"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    (tmp_path / "features" / f"{key}.pt").write_bytes(b"truncated")
    assert feature_cache.load_or_compute(key, compute)["x"].tolist() == [0, 1, 2]
    assert len(calls) == 2


def test_stacked_dataset_modes(fmnist_test):
    stacked = load_dataset("stacked-fashion-mnist", "test").data[:500]
    out = score_images(stacked, "stacked-fashion-mnist", n_real=500, metrics=("fid", "modes"))
    assert set(out) == {f"fid/{EXT}", "modes", "reverse_kl"}
    assert 300 <= out["modes"] <= 500  # 500 draws over 1000 near-uniform modes cover ~390
    assert 0 < out["reverse_kl"] < 1.0


@pytest.mark.parametrize(
    "images, kwargs, match",
    [
        (torch.zeros(0, 1, 28, 28, dtype=torch.uint8), {}, "empty sample set"),
        (torch.zeros(10, 1, 28, 28), {}, "uint8"),
        (torch.zeros(10, 1, 32, 32, dtype=torch.uint8), {"metrics": ("fid",)}, r"\(1, 28, 28\)"),
        (torch.zeros(100, 1, 28, 28, dtype=torch.uint8), {"metrics": ("kid",)}, "kid_subset_size"),
        # all metrics (None): only an image folder may have KID left out; Fashion-MNIST raises
        (torch.zeros(100, 1, 28, 28, dtype=torch.uint8), {"metrics": None}, "kid_subset_size"),
        (torch.zeros(5, 1, 28, 28, dtype=torch.uint8), {"metrics": ("is",)}, "is needs"),
        (torch.zeros(10, 1, 28, 28, dtype=torch.uint8), {"metrics": ("fd",)}, "unknown image metric"),
        (torch.zeros(10, 1, 28, 28, dtype=torch.uint8), {"n_real": 10**6}, "n_real"),
    ],
)
def test_bad_input_is_a_clear_error(images, kwargs, match):
    kwargs.setdefault("n_real", 200)
    with pytest.raises(MetricError, match=match):
        score_images(images, "fashion-mnist", **kwargs)


def test_domain_extractor_refuses_other_datasets():
    images = torch.zeros(10, 3, 32, 32, dtype=torch.uint8)
    with pytest.raises(MetricError, match="inception-v3-compat"):
        score_images(images, "cifar10", extractor=EXT)
    with pytest.raises(MetricError, match="domain classifier"):
        score_images(images, "cifar10", metrics=("modes",))
