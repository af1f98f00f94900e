"""``fmnist-cnn``: ganbench's Fashion-MNIST domain classifier, used as a feature extractor.

Inception-v3 features describe ImageNet photos, not 28x28 grey clothing, and
need weights that offline users may not have. A small CNN trained by ganbench
with a fixed recipe (``ganbench.extractors.train``) and shipped with its sha256
gives every user the same numbers offline. Features are the penultimate layer
(as Inception's pool3 is for FID); the logits feed IS and the class histograms.

Stacked datasets (3 random items as RGB channels) are scored channel by
channel: features are concatenated, and the per-channel class log-probabilities
are combined into logits over the 1000 joint modes ``100*c0 + 10*c1 + c2``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch_fidelity import FeatureExtractorBase

from ganbench.extractors.errors import MetricError

NAME = "fmnist-cnn"
WEIGHTS_PATH = Path(__file__).parent / "weights" / "fmnist_cnn.pt"
#: sha256 of the shipped weights; changes only together with the file (see the .json card).
WEIGHTS_SHA256 = "337808c396a41ed03e6ecb75ef95b4bdef100598c7e91bf1ed4a502985c53eb4"
IMAGE_SIZE = 28  # Fashion-MNIST images are 28x28x1 (Xiao et al. 2017)
NUM_CLASSES = 10
FEATURE_DIM = 128
#: Single-channel images per forward chunk when scoring. The network's activations
#: at 500 x 3 channels (the extractor's batch) are ~150 MB per layer and run from
#: memory; 128 keeps a chunk's activations near the caches. Measured per 9,000
#: channel images on one thread: 2.5 s at 500 or 128 with max_pool2d, 1.3 s at 64-256
#: with ``pool2x2`` (benchmarks/perf/scoring_cost.py; the results are bit-identical).
INFER_CHUNK = 128


class FmnistCNN(nn.Module):
    """[conv3x3(32)-BN-ReLU-pool] x [conv3x3(64)-BN-ReLU-pool] - fc(128) - dropout - fc(10).

    Inputs in [-1, 1]. Two conv blocks reach ~91-92 % test accuracy and keep
    training within a few minutes on one CPU thread (about 4 M multiply-adds
    per image); batch norm made 4-5 epochs enough (without it 5 epochs gave
    ~90.5-91 % in our trial runs).
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1, bias=False)  # bias is redundant before BN
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * (IMAGE_SIZE // 4) ** 2, FEATURE_DIM)
        self.dropout = nn.Dropout(0.3)
        self.fc2 = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def embed(self, x: Tensor) -> Tensor:
        """Penultimate features (post-ReLU fc1), ``[B, 128]``, of images ``[B, 1, 28, 28]``."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        return F.relu(self.fc1(x.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        """Class logits ``[B, 10]``."""
        return self.fc2(self.dropout(self.embed(x)))

    def infer(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(features ``[B, 128]``, logits ``[B, 10]``) of images ``[B, 1, 28, 28]`` in
        eval mode: the same numbers as ``embed`` and ``forward`` (tested bit for bit),
        computed faster for scoring. ``max_pool2d`` on NCHW is the slowest op on a CPU
        (it was 40 % of the extractor's time); ``pool2x2`` gives the same maxima, and
        ReLU after pooling equals ReLU before it (both are monotone) on a quarter of
        the values. ``embed`` stays as it is: training differentiates through it, and
        max_pool2d breaks ties in the gradient differently."""
        x = pool2x2(self.bn1(self.conv1(x))).relu_()
        x = pool2x2(self.bn2(self.conv2(x))).relu_()
        feats = F.relu(self.fc1(x.flatten(1)))
        return feats, self.fc2(feats)


def pool2x2(x: Tensor) -> Tensor:
    """2x2 max pooling, stride 2, of ``[B, C, H, W]`` with even H and W: the same values
    as ``F.max_pool2d(x, 2)`` (a max is exact; NaN propagates in both) at about a
    fifth of its CPU time, as the elementwise max of the four strided corners."""
    top = torch.maximum(x[..., ::2, ::2], x[..., ::2, 1::2])
    return torch.maximum(top, torch.maximum(x[..., 1::2, ::2], x[..., 1::2, 1::2]))


def to_input(images: Tensor) -> Tensor:
    """uint8 [0, 255] -> float [-1, 1], the same map as ``datasets.to_model_space``."""
    return images.float() / 127.5 - 1.0


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_shipped_weights(path: Path = None, expected: str = None) -> str:
    """Verify the shipped weights file against ``WEIGHTS_SHA256``; return its sha256."""
    path = Path(path or WEIGHTS_PATH)
    expected = expected or WEIGHTS_SHA256
    if not path.is_file():
        raise MetricError(
            f"fmnist-cnn weights file {path} is missing. Fix: reinstall ganbench (the file is "
            f"package data), or recreate it with `ganbench extractor train --out {path}`."
        )
    actual = sha256_file(path)
    if actual != expected:
        raise MetricError(
            f"fmnist-cnn weights file {path} is corrupt or modified: sha256 {actual} != expected "
            f"{expected}. Fix: restore the file (reinstall ganbench, or `git checkout -- "
            f"ganbench/extractors/weights/fmnist_cnn.pt` in a source checkout); if you retrained it "
            f"on purpose, update WEIGHTS_SHA256 in ganbench/extractors/fmnist_cnn.py."
        )
    return actual


def load_fmnist_cnn(path: str | Path | None = None) -> FmnistCNN:
    """The classifier with weights from ``path`` (default: the shipped, sha-checked file)."""
    if path is None or Path(path).resolve() == WEIGHTS_PATH.resolve():
        path = WEIGHTS_PATH
        check_shipped_weights(path)
    elif not Path(path).is_file():
        raise MetricError(f"fmnist-cnn weights file {path} does not exist; pass an existing file.")
    net = FmnistCNN()
    try:
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as exc:  # unpickling or key/shape mismatch: either way unusable
        raise MetricError(
            f"fmnist-cnn weights file {path} is not a FmnistCNN state dict ({exc}). "
            f"Fix: use a file written by `ganbench extractor train`."
        ) from exc
    return net.eval().requires_grad_(False)


def joint_logits(logits: Tensor) -> Tensor:
    """Per-channel logits ``[B, C, 10]`` -> logits over the 10**C joint classes.

    The joint log-probability is the sum of per-channel log-probabilities, so
    softmax of the result is the product distribution and its argmax is
    ``sum_c argmax_c * 10**(C-1-c)`` (``100*c0 + 10*c1 + c2`` for C = 3).
    """
    logp = F.log_softmax(logits.double(), dim=-1)
    joint = logp[:, 0]
    for c in range(1, logp.shape[1]):
        joint = (joint[:, :, None] + logp[:, c, None, :]).flatten(1)
    return joint.float()


class FmnistCNNExtractor(FeatureExtractorBase):
    """torch-fidelity wrapper: uint8 ``[B, C, 28, 28]`` (C = 1 or 3) -> features, logits."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.net = load_fmnist_cnn(feature_extractor_weights_path)

    @staticmethod
    def get_provided_features_list():
        return "features", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"isc": "logits", "fid": "features", "kid": "features", "prc": "features"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 1, IMAGE_SIZE, IMAGE_SIZE, dtype=torch.uint8)

    def forward(self, x: Tensor):
        if x.dtype != torch.uint8 or x.dim() != 4 or x.shape[2:] != (IMAGE_SIZE, IMAGE_SIZE):
            raise MetricError(f"fmnist-cnn needs uint8 images [B, C, 28, 28], got {x.dtype} {tuple(x.shape)}")
        b, c = x.shape[:2]
        # Stacked images: every channel is one Fashion-MNIST item, so all channels
        # of the batch go through the network together, in cache-sized chunks.
        flat = x.reshape(b * c, 1, IMAGE_SIZE, IMAGE_SIZE)
        with torch.inference_mode():
            parts = [self.net.infer(to_input(chunk)) for chunk in flat.split(INFER_CHUNK)]
        feats = torch.cat([f for f, _ in parts])
        logits = torch.cat([lg for _, lg in parts]).view(b, c, NUM_CLASSES)
        out = {
            "features": feats.reshape(b, c * FEATURE_DIM),
            "logits": logits[:, 0] if c == 1 else joint_logits(logits),
        }
        return tuple(out[name] for name in self.features_list)
