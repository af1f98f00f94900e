"""Evaluation does no repeated work, and the shortcuts change no number:
cached real k-NN radii give the uncached scores, a cache entry for another k
or n_real is never reused, and one generator serves every snapshot of a run."""

import os

import pytest
import torch
from torch_fidelity.metric_prc import prc_features_to_metric

from ganbench.config.run import Budget, RunConfig
from ganbench.core.mapping import from_mapping
from ganbench.datasets import load_dataset
from ganbench.evaluation import evaluate
from ganbench.metrics import fidelity, score_images
from ganbench.metrics.fidelity import dc_radii, density_coverage, prc_radii, precision_recall
from ganbench.training.trainer import train

N = 300  # generated and real images: a second or two of extraction on one thread
EXT = "fmnist-cnn"
RADII_METRICS = ("precision_recall", "density_coverage")


def features(n, seed, d=16):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


def lattice(n, seed, d=3, side=6):
    """Integer points: many exact distance ties, where a ball's edge (< or <=) decides."""
    return torch.randint(side, (n, d), generator=torch.Generator().manual_seed(seed)).float()


def test_precision_recall_is_torch_fidelitys_bit_for_bit():
    # more rows than one distance block, so the blocked paths are exercised
    for fake, real in ((features(fidelity.BLOCK + 150, 0), features(fidelity.BLOCK + 250, 1) * 1.3),
                       (lattice(fidelity.BLOCK + 150, 0), lattice(fidelity.BLOCK + 250, 1, side=7))):
        ref = prc_features_to_metric(fake, real, prc_neighborhood=3, prc_batch_size=fidelity.BLOCK,
                                     save_cpu_ram=True, verbose=False)
        assert precision_recall(fake, real, 3) == (ref["precision"], ref["recall"])
        assert precision_recall(fake, real, 3, real_radii=prc_radii(real, 3)) == (ref["precision"], ref["recall"])


def test_density_coverage_with_given_radii_is_the_uncached_result():
    fake, real = features(400, 2), features(fidelity.BLOCK + 100, 3)
    uncached = density_coverage(fake, real, 5)
    assert density_coverage(fake, real, 5, real_radii=dc_radii(real, 5)) == uncached
    assert 0 < uncached[0] and 0 < uncached[1] < 1  # a case where the radii matter


def test_radii_of_the_wrong_length_are_refused():
    fake, real = features(50, 4), features(60, 5)
    with pytest.raises(ValueError, match="real_radii must be a tensor"):
        density_coverage(fake, real, real_radii=dc_radii(real[:59]))
    with pytest.raises(ValueError, match="real_radii must be a tensor"):
        precision_recall(fake, real, real_radii=prc_radii(real[:59]))


@pytest.fixture()
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path))
    return tmp_path / "features"


@pytest.fixture(scope="module")
def fake_images():
    return load_dataset("fashion-mnist", "train").data[:N]


def score(fake, n_real=N):
    return score_images(fake, "fashion-mnist", n_real=n_real, metrics=RADII_METRICS)


def radii_files(root):
    return sorted(f for f in os.listdir(root) if "-radii-" in f)


def test_cached_radii_give_the_uncached_scores(fresh_cache, fake_images):
    first = score(fake_images)  # computes and stores the radii
    assert radii_files(fresh_cache) == [
        f"fashion-mnist__test__n{N}__{EXT}-{tag}-radii-k{k}__{sha}__v1.pt"
        for tag, k, sha in (("dc", fidelity.DC_K, _sha()), ("prc", fidelity.PRC_K, _sha()))]
    second = score(fake_images)  # reads them back
    assert second == first
    # the uncached functions on the same features: no cache anywhere in this path
    from ganbench.extractors import extract_features, load_extractor
    from ganbench.metrics.images import _real_images

    ext, (real, _) = load_extractor(EXT), _real_images("fashion-mnist", "test", N, None)
    f_fake, f_real = (extract_features(x, ext)[ext.spec.feature_layer].float() for x in (fake_images, real))
    assert (first[f"density/{EXT}"], first[f"coverage/{EXT}"]) == density_coverage(f_fake, f_real)
    assert (first[f"precision/{EXT}"], first[f"recall/{EXT}"]) == precision_recall(f_fake, f_real)


def _sha():
    from ganbench.extractors import fmnist_cnn

    return fmnist_cnn.WEIGHTS_SHA256


def poison(root):
    """Replace every cached radius with 0: scores computed from the entries collapse."""
    for name in radii_files(root):
        entry = torch.load(root / name, weights_only=True)
        torch.save({"radii": torch.zeros_like(entry["radii"])}, root / name)


def test_cache_entries_are_used_and_keyed_by_n_real_and_k(fresh_cache, fake_images, monkeypatch):
    clean = score(fake_images)
    poison(fresh_cache)
    used = score(fake_images)  # the poisoned entries are read: nothing is inside a ball of radius 0
    assert used[f"coverage/{EXT}"] == 0.0 and used[f"precision/{EXT}"] == 0.0
    assert used[f"recall/{EXT}"] == clean[f"recall/{EXT}"]  # recall's radii are the fakes': never cached
    other_n = score(fake_images[: N - 1], n_real=N - 1)
    assert other_n[f"coverage/{EXT}"] > 0 and other_n[f"precision/{EXT}"] > 0
    monkeypatch.setattr(fidelity, "DC_K", fidelity.DC_K + 1)
    monkeypatch.setattr(fidelity, "PRC_K", fidelity.PRC_K + 1)
    other_k = score(fake_images)
    assert other_k[f"coverage/{EXT}"] > 0 and other_k[f"precision/{EXT}"] > 0
    assert other_k[f"density/{EXT}"] != clean[f"density/{EXT}"]  # k enters density itself too


@pytest.fixture(scope="module")
def ring_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run") / "ring8"
    config = RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=30),
                       snapshot_fractions=(0.25, 0.5, 0.75, 1.0))
    train(config, run_dir)
    return run_dir


def test_evaluate_builds_the_generator_once_per_run(ring_run, monkeypatch):
    built = []
    original = evaluate.build_models
    monkeypatch.setattr(evaluate, "build_models", lambda *a, **kw: built.append(1) or original(*a, **kw))
    record = evaluate.evaluate_run(ring_run, force=True)
    assert len(record["snapshots"]) == 4 and all(s["metrics"] for s in record["snapshots"])
    assert len(built) == 1


def test_a_reused_generator_gives_each_snapshots_own_samples(ring_run):
    record = evaluate.read_record(ring_run)
    config = from_mapping(RunConfig, record["config"], "record")
    info = load_dataset("ring8", "test").info
    shared = evaluate._build_generator(config, info)
    for snap in reversed(record["snapshots"]):  # the shared module carries the previous snapshot's weights
        fresh = evaluate.snapshot_samples(ring_run, snap, config, info, 500)
        assert torch.equal(evaluate.snapshot_samples(ring_run, snap, config, info, 500, generator=shared), fresh)
