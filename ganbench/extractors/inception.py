"""``inception-v3-compat``: torch-fidelity's port of the TF Inception-v3 used by the
original FID/IS code, and the weights it needs.

The weights come from exactly one of three places, in this order: a path the
user gives; the file already in ``$TORCH_HOME/hub/checkpoints`` (where
torch-fidelity's own download puts it); a download into that folder. When none
works the error names all three. There is never a silent fallback to another
extractor, whose numbers would not be comparable.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

from ganbench.extractors.errors import MetricError

NAME = "inception-v3-compat"
WEIGHTS_FILENAME = URL_INCEPTION_V3.rsplit("/", 1)[-1]


def hub_weights_path() -> Path:
    """Where torch.hub keeps the downloaded weights (honours ``$TORCH_HOME``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILENAME


def how_to_get_weights() -> str:
    """The three ways to provide the weights, for error messages."""
    return (
        f"Provide the Inception-v3 weights ({WEIGHTS_FILENAME}, about 91 MB) in one of three ways: "
        f"(1) online: let ganbench download them once from {URL_INCEPTION_V3} "
        f"(unset GANBENCH_OFFLINE); "
        f"(2) a path: pass inception_weights=PATH (CLI: --inception-weights PATH); "
        f"(3) copy the file to {hub_weights_path()} (set $TORCH_HOME to move that folder). "
        f"Or score with the shipped domain extractor, e.g. extractor='fmnist-cnn'."
    )


def _download(url: str, dst: Path) -> None:
    """Fetch ``url`` to ``dst`` (torch.hub writes a temp file and renames it)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(dst), progress=False)


def _offline() -> bool:
    from ganbench.datasets.base import downloads_allowed  # one reading of GANBENCH_OFFLINE

    return not downloads_allowed()


def resolve_weights_file(path: str | os.PathLike | None, cached: Path, url: str, what: str, how: str) -> Path:
    """``path`` if given (it must exist), else ``cached`` (the torch.hub checkpoint),
    else a download of ``url`` into it (unless ``GANBENCH_OFFLINE``). ``what`` names
    the network and ``how`` lists the ways to provide it, in every error."""
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise MetricError(f"{what} weights file {path} does not exist. " + how)
        return path
    if cached.is_file():
        return cached
    if _offline():
        raise MetricError(f"{what} weights not found and GANBENCH_OFFLINE is set. " + how)
    try:
        _download(url, cached)
    except Exception as exc:  # no network, proxy, HTTP error, disk full: all end the same way
        raise MetricError(f"{what} weights could not be downloaded ({exc}). " + how) from exc
    return cached


def resolve_inception_weights(path: str | os.PathLike | None = None) -> Path:
    """Return a local weights file: ``path``, else the hub cache, else a fresh download."""
    return resolve_weights_file(path, hub_weights_path(), URL_INCEPTION_V3, "Inception-v3", how_to_get_weights())


def check_inception_weights(path: Path) -> None:
    """Refuse anything but a plain state dict before torch-fidelity unpickles it.

    torch-fidelity loads the file with ``weights_only=False``, which would run
    arbitrary pickled code; loading it here with ``weights_only=True`` first
    keeps ganbench's rule that checkpoints load safely.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise MetricError(
            f"Inception weights file {path} is not a readable state dict ({exc}). " + how_to_get_weights()
        ) from exc
    if not isinstance(state, dict) or "fc.weight" not in state:
        raise MetricError(
            f"Inception weights file {path} is not a torch-fidelity Inception state dict. " + how_to_get_weights()
        )


def to_rgb(images: Tensor, name: str = NAME) -> Tensor:
    """Grey images are repeated to 3 channels (the usual convention for FID on MNIST-like
    data); ``name``: the extractor named in the error for other channel counts."""
    if images.shape[-3] == 1:
        return images.expand(*images.shape[:-3], 3, *images.shape[-2:])
    if images.shape[-3] != 3:
        raise MetricError(f"{name} needs 1- or 3-channel images, got shape {tuple(images.shape)}")
    return images
