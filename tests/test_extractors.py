"""Feature extractors: shipped fmnist-cnn weights, corrupt files, Inception weight plumbing, training."""

import gzip
import json
import struct
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from torch_fidelity import feature_extractor_inceptionv3 as tf_inception

from ganbench.cli.extractor import extractor_group
from ganbench.extractors import (
    MetricError,
    extract_features,
    fmnist_cnn,
    inception,
    load_extractor,
    train_fmnist_extractor,
)
from ganbench.extractors.fmnist_cnn import joint_logits, load_fmnist_cnn, sha256_file
from ganbench.metrics import score_images


def test_shipped_weights_match_sha_and_card():
    path = fmnist_cnn.WEIGHTS_PATH
    assert path.stat().st_size < 5 * 2**20
    assert sha256_file(path) == fmnist_cnn.WEIGHTS_SHA256
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["sha256"] == fmnist_cnn.WEIGHTS_SHA256
    assert 0.90 <= card["test_accuracy"] <= 0.94
    assert card["recipe"]["seed"] == 0


def test_corrupt_shipped_weights_are_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "fmnist_cnn.pt"
    data = bytearray(fmnist_cnn.WEIGHTS_PATH.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(fmnist_cnn, "WEIGHTS_PATH", bad)
    with pytest.raises(MetricError, match=r"corrupt or modified.*git checkout"):
        load_extractor("fmnist-cnn")
    images = torch.zeros(20, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(MetricError, match=str(bad)):
        score_images(images, "fashion-mnist", n_real=20, metrics=("fid",))


def test_missing_shipped_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(fmnist_cnn, "WEIGHTS_PATH", tmp_path / "nope.pt")
    with pytest.raises(MetricError, match="missing"):
        load_fmnist_cnn()


def test_joint_logits_give_stacked_mode_ids():
    logits = torch.full((2, 3, 10), -5.0)
    for b, (c0, c1, c2) in enumerate([(1, 2, 3), (9, 0, 7)]):
        logits[b, 0, c0] = logits[b, 1, c1] = logits[b, 2, c2] = 5.0
    joint = joint_logits(logits)
    assert joint.shape == (2, 1000)
    assert joint.argmax(1).tolist() == [123, 907]
    assert torch.allclose(joint.softmax(1).sum(1), torch.ones(2))


def test_stacked_features_are_per_channel_concatenations():
    ext = load_extractor("fmnist-cnn", cuda=False)
    g = torch.Generator().manual_seed(0)
    grey = torch.randint(0, 256, (12, 1, 28, 28), generator=g, dtype=torch.uint8)
    single = extract_features(grey, ext)
    stacked = extract_features(grey.view(4, 3, 28, 28), ext)
    assert stacked["features"].shape == (4, 3 * fmnist_cnn.FEATURE_DIM)
    assert torch.allclose(stacked["features"], single["features"].view(4, -1), atol=1e-5)
    modes = stacked["logits"].argmax(1)
    digits = single["logits"].argmax(1).view(4, 3)
    assert modes.tolist() == (100 * digits[:, 0] + 10 * digits[:, 1] + digits[:, 2]).tolist()


def test_missing_inception_weights_names_three_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GANBENCH_OFFLINE", "1")
    with pytest.raises(MetricError) as info:
        inception.resolve_inception_weights()
    message = str(info.value)
    assert "(1) online" in message and "(2) a path" in message and "(3) copy" in message
    assert str(tmp_path / "torch") in message
    with pytest.raises(MetricError, match="does not exist"):
        inception.resolve_inception_weights(tmp_path / "absent.pth")


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("GANBENCH_OFFLINE", "0")

    def no_network(url, dst):
        raise OSError("network unreachable")

    monkeypatch.setattr(inception, "_download", no_network)
    images = torch.zeros(20, 1, 28, 28, dtype=torch.uint8)
    with pytest.raises(MetricError, match=r"could not be downloaded.*\(3\) copy"):
        score_images(images, "fashion-mnist", n_real=20, extractor="inception-v3-compat", metrics=("fid",))


def test_weights_in_torch_hub_cache_are_found(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / inception.WEIGHTS_FILENAME
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"placeholder")
    assert inception.resolve_inception_weights() == cached
    with pytest.raises(MetricError, match="not a readable state dict"):
        inception.check_inception_weights(cached)


def random_inception_weights(path: Path, monkeypatch) -> Path:
    """A randomly initialised Inception saved exactly as torch-fidelity's weights file is:
    ``torch.save`` of the ``FeatureExtractorInceptionV3`` state dict."""
    with monkeypatch.context() as m:
        m.setattr(tf_inception, "load_state_dict_from_url", lambda *a, **k: {})
        m.setattr(tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None)
        torch.manual_seed(0)
        net = tf_inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    torch.save(net.state_dict(), path)
    return path


@pytest.mark.slow
def test_inception_with_weights_file_by_path(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    weights = random_inception_weights(tmp_path / inception.WEIGHTS_FILENAME, monkeypatch)
    fake = torch.randint(0, 256, (6, 1, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    out = score_images(
        fake, "fashion-mnist", n_real=6, extractor="inception-v3-compat", inception_weights=weights,
        metrics=("fid", "kid", "precision_recall", "density_coverage"), kid_subset_size=5,
    )
    assert set(out) == {f"{m}/inception-v3-compat" for m in
                        ("fid", "kid", "precision", "recall", "density", "coverage")}
    assert all(torch.isfinite(torch.tensor(v)) for v in out.values())
    assert out["fid/inception-v3-compat"] > 0


def write_idx(path: Path, array: torch.Tensor) -> None:
    """An IDX file (LeCun's format: magic 0x0000 08 ndim, big-endian dims, bytes), gzipped."""
    header = bytes([0, 0, 0x08, array.dim()]) + struct.pack(f">{array.dim()}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.numpy().tobytes()))


@pytest.fixture
def tiny_fmnist(tmp_path):
    """256 train / 64 test images in the true on-disk format: class c is a bar at row 2c."""
    g = torch.Generator().manual_seed(0)
    for _split, stem, n in (("train", "train", 256), ("test", "t10k", 64)):
        labels = torch.randint(0, 10, (n,), generator=g, dtype=torch.uint8)
        images = torch.randint(0, 60, (n, 28, 28), generator=g, dtype=torch.uint8)
        for i, c in enumerate(labels.tolist()):
            images[i, 2 * c + 4 : 2 * c + 6] = 255
        write_idx(tmp_path / f"{stem}-images-idx3-ubyte.gz", images)
        write_idx(tmp_path / f"{stem}-labels-idx1-ubyte.gz", labels)
    return tmp_path


def test_train_recipe_is_deterministic_and_loadable(tiny_fmnist, tmp_path):
    a = train_fmnist_extractor(tmp_path / "a" / "w.pt", data_dir=tiny_fmnist, epochs=2, progress=False)
    b = train_fmnist_extractor(tmp_path / "b" / "w.pt", data_dir=tiny_fmnist, epochs=2, progress=False)
    assert a["sha256"] == b["sha256"] == sha256_file(tmp_path / "a" / "w.pt")
    assert json.loads((tmp_path / "a" / "w.json").read_text()) == a
    assert a["recipe"]["epochs"] == 2 and 0.0 <= a["test_accuracy"] <= 1.0
    net = load_fmnist_cnn(tmp_path / "a" / "w.pt")
    assert net(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_cli_extractor_train(tiny_fmnist, tmp_path):
    out = tmp_path / "cli.pt"
    result = CliRunner().invoke(extractor_group, ["train", "--out", str(out), "--data-dir", str(tiny_fmnist),
                                                  "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "sha256" in result.output and out.is_file() and out.with_suffix(".json").is_file()
