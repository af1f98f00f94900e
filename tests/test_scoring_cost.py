"""Cheaper scoring changes no number, and every scored snapshot says what it cost.

The reference is the straightforward computation scoring used before: the
network's own ``embed`` (``max_pool2d``) one channel at a time, in one batch,
and numpy's BLAS at its default thread count.
"""

import math

import pytest
import torch
from threadpoolctl import threadpool_limits

from ganbench.core.record import comparable
from ganbench.datasets import load_dataset
from ganbench.evaluation import evaluate
from ganbench.extractors import load_extractor
from ganbench.extractors.fmnist_cnn import FmnistCNNExtractor, joint_logits, pool2x2, to_input
from ganbench.metrics import images, score_images

N = 300  # generated and real images per set: small, and still every metric group


def reference_forward(self, x):
    """FmnistCNNExtractor.forward as it was: each channel on its own, embed + fc2."""
    per_channel = [self.net.embed(to_input(x[:, c:c + 1])) for c in range(x.shape[1])]
    logits = torch.stack([self.net.fc2(f) for f in per_channel], dim=1)
    out = {"features": torch.cat(per_channel, dim=1),
           "logits": logits[:, 0] if x.shape[1] == 1 else joint_logits(logits)}
    return tuple(out[name] for name in self.features_list)


def fixed_images(dataset: str, n: int = N) -> torch.Tensor:
    """Real test images, a few blank and saturated ones, and uniform noise: fixed, no seed drift."""
    data = load_dataset(dataset, "test").data
    g = torch.Generator().manual_seed(1)
    noise = torch.randint(0, 256, (n // 3,) + tuple(data.shape[1:]), generator=g, dtype=torch.uint8)
    edges = torch.stack([torch.zeros_like(data[0]), torch.full_like(data[0], 255)])
    return torch.cat([data[-(n - len(noise) - 2):], edges, noise])


@pytest.mark.parametrize("dataset", ["fashion-mnist", "stacked-fashion-mnist"])
def test_fast_extractor_is_the_per_channel_reference_bit_for_bit(dataset):
    ext = load_extractor("fmnist-cnn", cuda=False).module
    x = fixed_images(dataset, 700)  # more than INFER_CHUNK x 3: several chunks, a ragged last one
    with torch.no_grad():
        fast = ext(x)
        slow = reference_forward(ext, x)
    for layer, a, b in zip(ext.features_list, fast, slow):
        assert torch.equal(a, b), f"{dataset} {layer}: max diff {(a - b).abs().max().item():.3g}"


def test_pool2x2_is_max_pool2d_with_ties_nan_and_inf():
    g = torch.Generator().manual_seed(0)
    x = torch.randint(-3, 4, (5, 4, 8, 6), generator=g).float()  # many ties
    x[0, 0, 0, 0], x[1, 2, 3, 1], x[2, 1, 5, 5] = float("nan"), float("inf"), -float("inf")
    assert torch.equal(pool2x2(x).isnan(), torch.nn.functional.max_pool2d(x, 2).isnan())
    assert torch.equal(pool2x2(x).nan_to_num(), torch.nn.functional.max_pool2d(x, 2).nan_to_num())


def reference_scores(monkeypatch, fake, dataset, **kwargs):
    """score_images through the old extractor path, numpy's BLAS at its default threads."""
    with monkeypatch.context() as m:
        m.setattr(FmnistCNNExtractor, "forward", reference_forward)
        m.setattr(images, "threadpool_limits", lambda limits: threadpool_limits(limits=None))
        return score_images(fake, dataset, **kwargs)


@pytest.mark.parametrize("dataset", ["fashion-mnist", "stacked-fashion-mnist"])
def test_every_metric_is_the_reference_value(dataset, monkeypatch, tmp_path):
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path / "fast"))
    fake = fixed_images(dataset)
    kwargs = dict(n_real=N, kid_subset_size=100)
    fast = score_images(fake, dataset, **kwargs)
    monkeypatch.setenv("GANBENCH_CACHE", str(tmp_path / "reference"))  # the real side recomputed the old way
    slow = reference_scores(monkeypatch, fake, dataset, **kwargs)
    assert fast.keys() == slow.keys() and len(fast) >= 10
    for key in fast:
        assert math.isclose(fast[key], slow[key], rel_tol=1e-6, abs_tol=1e-6), (key, fast[key], slow[key])


@pytest.fixture(scope="module")
def image_run(tmp_path_factory):
    """A tiny finished fashion-mnist run with two snapshots."""
    from ganbench.config.run import Budget, RunConfig
    from ganbench.training.trainer import train

    run_dir = tmp_path_factory.mktemp("results") / "runs" / "fashion-mnist" / "vanilla" / "seed0"
    config = RunConfig("vanilla", "fashion-mnist", 0, Budget.parse("1e13flops", max_g_steps=4), width=8,
                       snapshot_fractions=(0.5, 1.0))
    train(config, run_dir)
    return run_dir


def test_each_scored_snapshot_records_its_seconds(image_run):
    record = evaluate.evaluate_run(image_run, n_samples=1000, n_real=1000, force=True)  # KID needs 1000
    assert len(record["snapshots"]) == 2
    for snap in record["snapshots"]:
        cost = snap["scoring_seconds"]
        assert set(cost) == {"wall", "cpu"} and cost["wall"] > 0 and cost["cpu"] > 0
    assert all("scoring_seconds" not in s for s in comparable(record)["snapshots"])  # volatile


def test_records_without_scoring_seconds_load_to_the_same_tables(image_run):
    from ganbench.report.load import load_records

    results = image_run.parents[3]
    record = evaluate.evaluate_run(image_run, n_samples=1000, n_real=1000)  # scored already: unchanged
    assert all("scoring_seconds" in s for s in record["snapshots"])
    before = load_records(results)
    for snap in record["snapshots"]:
        del snap["scoring_seconds"]  # as in every record written before the field existed
    evaluate.write_record(image_run, record)
    after = load_records(results)
    for table in ("runs", "finals", "curves"):
        assert getattr(after, table).equals(getattr(before, table)), table
    assert not after.skipped
