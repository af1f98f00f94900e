"""dinov2-vit-l-14 without the real weights: the whole ganbench path (resolve the
weights file, check and hash it, load it into the network, dgm-eval's
resize and normalisation, extraction, FD, the record and the report's labels)
runs with a small stand-in for the ViT that ``build_network`` would fetch.

The stand-in is affine in its input (patch convolution, mean over patches, a
linear map to 1024 dims, plus the class token), so shifting every pixel by a
constant shifts every feature vector by one known vector and leaves the
covariance alone: FD must then equal that vector's squared norm.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from torch import nn

from ganbench.cli import main
from ganbench.config.run import Budget, RunConfig
from ganbench.core.record import read_record, write_record
from ganbench.extractors import MetricError, dinov2, extract_features, load_extractor
from ganbench.metrics import score_images
from ganbench.metrics.naming import higher_is_better, metric_label, primary_metrics, worst_value
from ganbench.report.select import _matches
from ganbench.training.trainer import train
from tests.test_datasets import write_idx

NAME = dinov2.NAME
MEAN = torch.tensor([0.485, 0.456, 0.406])  # the ImageNet statistics torch-fidelity normalises with
STD = torch.tensor([0.229, 0.224, 0.225])


class StandIn(nn.Module):
    """DINOv2's interface at toy size: [N, 3, 224, 224] normalised images in, a
    1024-d class-token-like vector out, with the state-dict keys ganbench checks."""

    def __init__(self, hidden: int = 8):
        super().__init__()
        self.cls_token = nn.Parameter(torch.randn(1, 1, dinov2.FEATURE_DIM))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1, dinov2.FEATURE_DIM))
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, hidden, kernel_size=14, stride=14)
        self.head = nn.Linear(hidden, dinov2.FEATURE_DIM)
        self.seen = []  # inputs, for the test of what the network is fed

    def forward(self, x):
        self.seen.append(x)
        pooled = self.patch_embed.proj(x).mean(dim=(2, 3))
        return self.head(pooled) + self.cls_token[:, 0] + self.pos_embed[:, 0]


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """A stand-in weights file; the network code is the stand-in; an empty $TORCH_HOME."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(dinov2, "build_network", StandIn)
    torch.manual_seed(0)
    path = tmp_path / dinov2.WEIGHTS_FILENAME
    torch.save(StandIn().state_dict(), path)
    return path


def feature_shift(path, shift: float) -> torch.Tensor:
    """The closed form: adding ``shift`` to every grey pixel moves the stand-in's features by
    W_head @ (sum over channels and kernel of W_conv * shift / (255 std_c))."""
    state = torch.load(path, weights_only=True)
    per_channel = shift / (255 * STD.double())
    conv = state["patch_embed.proj.weight"].double().sum(dim=(2, 3))  # [hidden, 3]
    return state["head.weight"].double() @ (conv @ per_channel)


def grey_fmnist(directory, n_test: int, n_train: int = 16, low: int = 0, high: int = 200):
    """A fashion-mnist folder with pixels in ``low..high`` (room for a shift without clipping)."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        write_idx(directory / f"{stem}-images-idx3-ubyte.gz", rng.integers(low, high + 1, (n, 28, 28)))
        write_idx(directory / f"{stem}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return directory


def test_missing_weights_name_the_three_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("GANBENCH_OFFLINE", "1")
    with pytest.raises(MetricError) as info:
        load_extractor(NAME)
    message = str(info.value)
    assert "DINOv2 weights not found" in message
    assert "(1) online" in message and dinov2.WEIGHTS_URL in message
    assert "(2) a path" in message and "--extractor-weights PATH" in message
    assert "(3) copy" in message and str(tmp_path / "torch-home" / "hub" / "checkpoints" / "dinov2_vitl14_pretrain.pth") in message
    with pytest.raises(MetricError, match=r"absent.pth does not exist.*\(2\) a path"):
        load_extractor(NAME, tmp_path / "absent.pth")
    images = torch.zeros(4, 1, 28, 28, dtype=torch.uint8)
    data = grey_fmnist(tmp_path / "data", n_test=4)
    with pytest.raises(MetricError, match=r"\(1\) online.*\(2\) a path.*\(3\) copy"):
        score_images(images, "fashion-mnist", extractor=NAME, metrics=("fid",), data_dir=data)


def test_failed_download_names_the_ways(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setenv("GANBENCH_OFFLINE", "0")

    def no_network(url, dst):
        assert url == dinov2.WEIGHTS_URL and dst == dinov2.hub_weights_path()
        raise OSError("network unreachable")

    monkeypatch.setattr(dinov2.inception, "_download", no_network)
    with pytest.raises(MetricError, match=r"could not be downloaded \(network unreachable\).*\(3\) copy"):
        load_extractor(NAME)


def test_weights_from_the_hub_cache_and_refused_files(weights, tmp_path):
    cached = dinov2.hub_weights_path()
    assert str(cached).startswith(str(tmp_path / "torch-home"))
    cached.parent.mkdir(parents=True)
    cached.write_bytes(weights.read_bytes())
    ext = load_extractor(NAME, cuda=False)
    assert ext.weights_path == cached and ext.spec.logits_layer is None
    bad = tmp_path / "bad.pth"
    torch.save({"fc.weight": torch.zeros(2)}, bad)
    with pytest.raises(MetricError, match="not a DINOv2 ViT state dict"):
        load_extractor(NAME, bad)
    narrow = {k: v[..., :384] if k in ("cls_token", "pos_embed") else v for k, v in torch.load(weights).items()}
    torch.save(narrow, bad)
    with pytest.raises(MetricError, match="384-wide ViT, not ViT-L/14"):
        load_extractor(NAME, bad)
    torch.save({k: v for k, v in torch.load(weights).items() if k != "head.weight"}, bad)
    with pytest.raises(MetricError, match=r"(?s)do not fit DINOv2 ViT-L/14.*head.weight"):  # never random weights
        load_extractor(NAME, bad)


def test_grey_images_are_fed_as_three_equal_channels(weights):
    ext = load_extractor(NAME, weights, cuda=False)
    grey = torch.randint(0, 256, (5, 1, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    ext.module.model.seen.clear()
    feats = extract_features(grey, ext)
    assert set(feats) == {"dinov2"} and feats["dinov2"].shape == (5, dinov2.FEATURE_DIM)
    seen = ext.module.model.seen[0]
    assert seen.shape == (5, 3, 224, 224)  # resized to 224 before the network
    pixels = seen * (255 * STD)[:, None, None] + (255 * MEAN)[:, None, None]  # undo the normalisation
    assert torch.allclose(pixels[:, 0], pixels[:, 1], atol=1e-3) and torch.allclose(pixels[:, 0], pixels[:, 2], atol=1e-3)
    assert -0.01 <= pixels.min() and 200 < pixels.max() <= 255.01  # from 0..255 pixels, not [-1, 1] or [0, 1]
    assert torch.equal(feats["dinov2"], extract_features(grey.expand(-1, 3, -1, -1).contiguous(), ext)["dinov2"])
    with pytest.raises(MetricError, match="dinov2-vit-l-14 needs 1- or 3-channel images"):
        extract_features(torch.zeros(2, 2, 28, 28, dtype=torch.uint8), ext)


def dgm_eval_input(image: np.ndarray) -> torch.Tensor:
    """dgm-eval's DINOv2 transform, written with PIL as it does it: convert('RGB'),
    Resize((224, 224), BICUBIC), ToTensor (/255), Normalize(ImageNet)."""
    from PIL import Image

    pil = Image.fromarray(image).convert("RGB").resize((224, 224), Image.Resampling.BICUBIC)
    x = torch.from_numpy(np.asarray(pil, dtype=np.float32) / 255).permute(2, 0, 1)
    return (x - MEAN[:, None, None]) / STD[:, None, None]


@pytest.mark.parametrize("shape", [(28, 28), (32, 32, 3), (256, 256, 3)])  # up from 28/32, down from 256
def test_the_network_sees_dgm_evals_preprocessing(weights, shape):
    ext = load_extractor(NAME, weights, cuda=False)
    images = np.random.default_rng(len(shape)).integers(0, 256, (3,) + shape, dtype=np.uint8)
    batch = torch.from_numpy(images[:, None] if len(shape) == 2 else images.transpose(0, 3, 1, 2).copy())
    ext.module.model.seen.clear()
    extract_features(batch, ext)
    seen = ext.module.model.seen[0]
    expected = torch.stack([dgm_eval_input(image) for image in images])
    levels = ((seen - expected) * (255 * STD)[:, None, None]).abs()  # in 0..255 grey levels
    # torch's bicubic kernel weights are rounded differently from PIL's fixed-point
    # ones: at most one level apart, on a few pixels in a thousand (measured: <= 0.11%).
    assert levels.max() < 1.01 and (levels > 0.5).float().mean() < 5e-3


def test_the_cache_key_names_the_preprocessing(weights, tmp_path):
    from ganbench.metrics import cache

    data = grey_fmnist(tmp_path / "data", n_test=12)
    score_images(torch.zeros(4, 1, 28, 28, dtype=torch.uint8), "fashion-mnist", extractor=NAME,
                 extractor_weights=weights, metrics=("fid",), data_dir=data)
    keys = [p.name for p in cache.cache_root().glob(f"fashion-mnist__test__n12__{NAME}*")]
    assert keys and all(dinov2.PREPROCESSING in k for k in keys)  # never features of another resize


def test_fd_known_answers(weights, tmp_path):
    # pixels 50..180: the bicubic overshoot stays inside 0..255 with and without the shift
    data = grey_fmnist(tmp_path / "data", n_test=40, low=50, high=180)
    from ganbench.datasets import load_dataset

    real = load_dataset("fashion-mnist", "test", data).data
    assert real.dtype == torch.uint8 and real.max() <= 180
    kwargs = {"extractor": NAME, "extractor_weights": weights, "metrics": ("fid",), "data_dir": data}
    same = score_images(real, "fashion-mnist", **kwargs)
    assert set(same) == {f"fd/{NAME}"}  # FD under its own key: no fid/, no is/
    assert abs(same[f"fd/{NAME}"]) < 1e-6
    shifted = score_images(real + 30, "fashion-mnist", **kwargs)
    expected = float(feature_shift(weights, 30.0).pow(2).sum())
    assert expected > 1.0
    assert shifted[f"fd/{NAME}"] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(MetricError, match="IS needs class logits"):
        score_images(real, "fashion-mnist", **{**kwargs, "metrics": ("is",)})


@pytest.mark.slow  # ~80 s on a busy CPU: 1000 images, KID and k-NN on 1024-d features
def test_a_run_scored_with_two_extractors_keeps_both(weights, tmp_path):
    data = grey_fmnist(tmp_path / "data", n_test=1000)
    run_dir = tmp_path / "run"
    train(RunConfig(variant="vanilla", dataset="fashion-mnist", seed=0, budget=Budget.parse("1e12flops", 1),
                    batch_size=8, width=8, snapshot_fractions=(1.0,), data_dir=str(data)), run_dir)
    record = read_record(run_dir)  # as if scored on fmnist-cnn before: these numbers must survive
    earlier = {"fid/fmnist-cnn": 123.5, "is/fmnist-cnn": 2.5, "classes_covered": 7.0}
    record["snapshots"][-1]["metrics"] = dict(earlier)
    write_record(run_dir, record)
    result = CliRunner().invoke(main, ["eval", str(run_dir), "--extractor", NAME, "--extractor-weights", str(weights),
                                       "--n-samples", "1000"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run_dir / "record.json").read_text())["metrics"]
    assert {k: metrics[k] for k in earlier} == earlier
    ours = {k for k in metrics if k.endswith(f"/{NAME}")}
    assert ours == {f"{m}/{NAME}" for m in ("fd", "kid", "precision", "recall", "density", "coverage")}
    assert metrics[f"fd/{NAME}"] > 0 and f"fd/{NAME}" in result.output
    assert primary_metrics(metrics) == ["fid/fmnist-cnn"]  # adding DINOv2 numbers leaves the ranking alone


def test_report_gives_fd_dinov2_its_own_column():
    keys = ["fid/inception-v3-compat", f"fd/{NAME}", f"kid/{NAME}", "kid/inception-v3-compat"]
    assert metric_label(f"fd/{NAME}") == "FD (DINOv2)" and metric_label(f"kid/{NAME}") == "KID (DINOv2)"
    assert len({metric_label(k) for k in keys}) == len(keys)
    assert not _matches(f"fd/{NAME}", ["fid"]) and _matches(f"fd/{NAME}", ["fd"])  # --metric fid: FIDs only
    assert primary_metrics(keys) == ["fid/inception-v3-compat"]
    assert primary_metrics([f"fd/{NAME}", f"kid/{NAME}"]) == [f"fd/{NAME}"]
    assert higher_is_better(f"fd/{NAME}") is False and worst_value(f"fd/{NAME}") == float("inf")
