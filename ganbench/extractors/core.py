"""Extractor registry, loading (weights resolved and hashed) and batched extraction.

The networks themselves are torch-fidelity feature extractors (registered with
``register_feature_extractor``); this module adds what ganbench needs around
them: where the weights come from, their sha256 (part of every cache key, so a
changed extractor never reuses stale real-data features), and input adaptation.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import Tensor
from torch.utils.data import Dataset
from torch_fidelity import register_feature_extractor
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor, get_featuresdict_from_dataset

from ganbench.core.registry import Registry
from ganbench.extractors import dinov2, fmnist_cnn, inception
from ganbench.extractors.errors import MetricError


@dataclass(frozen=True)
class ExtractorSpec:
    """How ganbench uses one torch-fidelity feature extractor.

    ``feature_layer`` feeds FID/KID/precision/recall/density/coverage,
    ``logits_layer`` feeds IS (None: the network has no class logits, so no IS).
    ``classes``: the logits are the dataset's classes (a domain classifier), so
    they also give mode/class histograms. ``datasets``: the image datasets it is
    valid for (None: any). ``frechet``: the metric key of the Frechet distance on
    its features; "fid" where the literature calls it FID, "fd" for networks whose
    distance is reported under its own name (FD_DINOv2), so it never shares a
    column or a ranking with FID. ``network``: the torch-fidelity registry name
    of the class to build (default: ``name``). ``preprocessing``: a tag naming
    how images are resized and normalised for it, part of its cache keys.
    """

    name: str
    feature_layer: str
    logits_layer: Optional[str]
    resolve_weights: Callable[[Optional[str]], Path]
    check_weights: Callable[[Path], None]
    prepare: Callable[[Tensor], Tensor]
    datasets: Optional[tuple[str, ...]] = None
    classes: bool = False
    batch_size: int = 64
    frechet: str = "fid"
    network: Optional[str] = None
    preprocessing: str = ""

    @property
    def cache_name(self) -> str:
        """The extractor's part of feature-cache keys: its name and preprocessing tag."""
        return f"{self.name}-{self.preprocessing}" if self.preprocessing else self.name

    @property
    def layers(self) -> tuple[str, ...]:
        """The layers extracted by default: features, and logits where there are any."""
        return (self.feature_layer,) + ((self.logits_layer,) if self.logits_layer else ())


EXTRACTORS: Registry[ExtractorSpec] = Registry("extractor")


def register_extractor(spec: ExtractorSpec, cls=None) -> ExtractorSpec:
    """Register ``spec`` with ganbench and (if given) its class with torch-fidelity
    (under ``spec.network`` when set, else ``spec.name``)."""
    if cls is not None and (spec.network or spec.name) not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor(spec.network or spec.name, cls)
    EXTRACTORS.register(spec.name, replace=True)(spec)
    return spec


def _shipped_or_given(path: Optional[str]) -> Path:
    return Path(path) if path is not None else fmnist_cnn.WEIGHTS_PATH


def _check_fmnist(path: Path) -> None:
    if path.resolve() == fmnist_cnn.WEIGHTS_PATH.resolve():
        fmnist_cnn.check_shipped_weights(path)


register_extractor(
    ExtractorSpec(
        name=fmnist_cnn.NAME,
        feature_layer="features",
        logits_layer="logits",
        resolve_weights=_shipped_or_given,
        check_weights=_check_fmnist,
        prepare=lambda images: images,  # the network itself splits channels
        datasets=("fashion-mnist", "stacked-fashion-mnist"),
        classes=True,
        batch_size=500,  # 28x28 inputs: large batches are cheap and faster per image
    ),
    fmnist_cnn.FmnistCNNExtractor,
)
register_extractor(
    ExtractorSpec(
        name=inception.NAME,
        feature_layer="2048",  # pool3, the layer of the original FID (Heusel et al. 2017)
        logits_layer="logits_unbiased",  # torch-fidelity's IS layer, as in Salimans et al. 2016
        resolve_weights=inception.resolve_inception_weights,
        check_weights=inception.check_inception_weights,
        prepare=inception.to_rgb,
        batch_size=64,  # torch-fidelity's default
    )
    # the class is torch-fidelity's own, registered under this name already
)
register_extractor(
    ExtractorSpec(
        name=dinov2.NAME,
        feature_layer="dinov2",  # the class token, torch-fidelity's (and dgm-eval's) FD_DINOv2 feature
        logits_layer=None,  # a self-supervised backbone: no classes, so no IS
        resolve_weights=dinov2.resolve_dinov2_weights,
        check_weights=dinov2.check_dinov2_weights,
        prepare=dinov2.to_rgb,
        batch_size=64,
        frechet="fd",
        network=dinov2.TORCH_FIDELITY_NAME,
        preprocessing=dinov2.PREPROCESSING,
    ),
    dinov2.Dinov2Extractor,
)


@dataclass(frozen=True)
class LoadedExtractor:
    """A ready network plus the identity of its weights (for cache keys and records)."""

    spec: ExtractorSpec
    module: torch.nn.Module
    weights_path: Path
    weights_sha256: str
    cuda: bool


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    return fmnist_cnn.sha256_file(path)


def weights_sha256(path: Path) -> str:
    """sha256 of a weights file, memoised per (path, size, mtime)."""
    st = os.stat(path)
    return _sha256(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _create(name: str, path: str, sha: str, cuda: bool) -> torch.nn.Module:
    spec = EXTRACTORS.get(name)
    spec.check_weights(Path(path))
    try:
        return create_feature_extractor(
            spec.network or name, list(spec.layers), cuda=cuda,
            feature_extractor_weights_path=path, verbose=False,
        )
    except MetricError:
        raise
    except Exception as exc:  # e.g. a state dict with the wrong keys or shapes
        raise MetricError(f"{name}: cannot load weights {path} ({exc}); provide a valid weights file.") from exc


def load_extractor(name: str, weights: str | os.PathLike | None = None, cuda: bool | None = None) -> LoadedExtractor:
    """Resolve, verify and load extractor ``name`` (networks are cached per process).

    ``weights``: an explicit weights file (default: the extractor's own source).
    ``cuda``: run on the GPU (default: when one is available).
    """
    spec = EXTRACTORS.get(name)
    path = spec.resolve_weights(None if weights is None else str(weights))
    if not Path(path).is_file():
        raise MetricError(f"{name} weights file {path} does not exist; pass an existing file "
                          "(or reinstall ganbench for the shipped weights)")
    spec.check_weights(Path(path))  # a corrupt file fails with the fix, before it is hashed for the cache
    sha = weights_sha256(path)
    cuda = torch.cuda.is_available() if cuda is None else cuda
    return LoadedExtractor(spec, _create(name, str(path), sha, cuda), Path(path), sha, cuda)


class _Images(Dataset):
    """uint8 images served one by one (torch-fidelity wants tensors, not tuples)."""

    def __init__(self, images: Tensor, prepare: Callable[[Tensor], Tensor]):
        self.images, self.prepare = images, prepare

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> Tensor:
        return self.prepare(self.images[i])


def extract_features(images: Tensor, extractor: LoadedExtractor, layers: tuple[str, ...] = None) -> dict[str, Tensor]:
    """Run ``extractor`` over uint8 ``images`` [N, C, H, W] in batches -> {layer: [N, D]}.

    Only one batch of (resized) images is alive at a time; what grows is the
    feature matrices themselves.
    """
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise MetricError(f"images must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
    if images.shape[0] == 0:
        raise MetricError("empty sample set: there are no images to extract features from")
    spec = extractor.spec
    layers = layers or spec.layers
    out = get_featuresdict_from_dataset(
        _Images(images, spec.prepare), extractor.module, spec.batch_size,
        cuda=extractor.cuda, save_cpu_ram=True, verbose=False,
    )
    return {layer: out[layer] for layer in layers}
