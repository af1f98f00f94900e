"""``dinov2-vit-l-14``: DINOv2 ViT-L/14 features (Oquab et al. 2023) through
torch-fidelity's DINOv2 extractor, for the Frechet distance Stein et al. (NeurIPS
2023, "Exposing flaws of generative model evaluation metrics") recommend in place
of Inception's.

Input: dgm-eval's preprocessing (layer6ai-labs/dgm-eval, the code of Stein et al.),
not torch-fidelity's. dgm-eval resizes the uint8 PIL image to 224 x 224 with PIL's
BICUBIC (antialiased when shrinking), then scales to [0, 1] and normalises with the
ImageNet mean and std; torch-fidelity's forward resizes float 0..255 bilinearly
(TF1-compatible, no antialias), which gives other features and so another FD.
``Dinov2Extractor.forward`` does dgm-eval's steps in torch (``preprocess``):
bicubic with antialias (the same a = -0.5 kernel as PIL's), in PIL's two passes
with its uint8 rounding and clamping; it differs from PIL only by kernel rounding
(at most 1 level; see docs/methodology.md). The one feature, ``"dinov2"``, is the 1024-d class token.
Grey images are repeated to 3 channels first (``to_rgb``), as for Inception. The network has no class
logits, so there is no IS on it: the feature metrics only.

Weights: torch-fidelity 0.4 only loads DINOv2 through ``torch.hub.load`` (code
from GitHub, weights from Meta's server) and refuses a weights path. So ganbench
builds the architecture without weights (``build_network``) and loads the state
dict itself, from exactly one of: a path the user gives; the file torch.hub's own
download leaves in ``$TORCH_HOME/hub/checkpoints``; a download into that folder
(unless ``GANBENCH_OFFLINE``). When none works the error names all three; there
is never a silent fallback to another extractor.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import torch
from torch import Tensor
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.feature_extractor_dinov2 import FeatureExtractorDinoV2

from ganbench.extractors import inception
from ganbench.extractors.errors import MetricError

NAME = "dinov2-vit-l-14"
#: The name ganbench's loader class is registered under with torch-fidelity (its
#: own ``dinov2-vit-l-14`` entry is torch-fidelity's hub-only class, left as is).
TORCH_FIDELITY_NAME = "ganbench-dinov2-vit-l-14"
HUB_REPO = "facebookresearch/dinov2"
HUB_ENTRY = "dinov2_vitl14"  # torch-fidelity's MODEL_METADATA[NAME]
#: Where DINOv2's hub entry point downloads its weights from (its hubconf builds
#: the URL as BASE/<model>/<model>_pretrain.pth); torch.hub keeps the file name.
WEIGHTS_URL = f"https://dl.fbaipublicfiles.com/dinov2/{HUB_ENTRY}/{HUB_ENTRY}_pretrain.pth"
WEIGHTS_FILENAME = WEIGHTS_URL.rsplit("/", 1)[-1]
FEATURE_DIM = 1024  # ViT-L's embedding width: the class token's size
INPUT_SIZE = 224  # DINOv2's training resolution, dgm-eval's Resize((224, 224))
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: Names the preprocessing in the real-feature cache keys: features from another
#: resize (e.g. torch-fidelity's bilinear one, before this tag) are never reused.
PREPROCESSING = "dgm-eval-bicubic-v1"
#: Keys every DINOv2 ViT state dict has; a file without them is not one.
_REQUIRED_KEYS = ("cls_token", "pos_embed", "patch_embed.proj.weight")


def hub_weights_path() -> Path:
    """Where torch.hub (and so torch-fidelity) keeps the weights (honours ``$TORCH_HOME``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILENAME


def hub_code_dir() -> Path:
    """Where torch.hub keeps the DINOv2 repository it builds the network from."""
    return Path(torch.hub.get_dir()) / (HUB_REPO.replace("/", "_") + "_main")


def how_to_get_weights() -> str:
    """The three ways to provide the weights, for error messages."""
    return (
        f"Provide the DINOv2 ViT-L/14 weights ({WEIGHTS_FILENAME}, about 1.2 GB) in one of three ways: "
        f"(1) online: let ganbench download them once from {WEIGHTS_URL} (unset GANBENCH_OFFLINE); "
        f"(2) a path: pass extractor_weights=PATH (CLI: --extractor-weights PATH); "
        f"(3) copy the file to {hub_weights_path()} (set $TORCH_HOME to move that folder)."
    )


def resolve_dinov2_weights(path: str | os.PathLike | None = None) -> Path:
    """Return a local weights file: ``path``, else the hub cache, else a fresh download."""
    return inception.resolve_weights_file(path, hub_weights_path(), WEIGHTS_URL, "DINOv2", how_to_get_weights())


def _load_state(path: Path, mmap: bool = False) -> dict:
    """The state dict in ``path``, loaded safely (``weights_only``), or a clear error.
    ``mmap``: map the file instead of reading it (a check of 1.2 GB need not read it)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:
        raise MetricError(f"DINOv2 weights file {path} is not a readable state dict ({exc}). "
                          + how_to_get_weights()) from exc
    missing = [k for k in _REQUIRED_KEYS if not isinstance(state, dict) or k not in state]
    if missing:
        raise MetricError(f"DINOv2 weights file {path} is not a DINOv2 ViT state dict (no {', '.join(missing)}). "
                          + how_to_get_weights())
    width = state["cls_token"].shape[-1]
    if width != FEATURE_DIM:
        raise MetricError(f"DINOv2 weights file {path} is a {width}-wide ViT, not ViT-L/14 ({FEATURE_DIM}); "
                          f"pass {WEIGHTS_FILENAME}")
    return state


def check_dinov2_weights(path: Path) -> None:
    """Refuse anything but a DINOv2 ViT-L state dict before it is hashed or loaded."""
    _load_state(path, mmap=True)


def build_network() -> torch.nn.Module:
    """DINOv2 ViT-L/14 without weights, from the DINOv2 repository's hub entry point.

    The repository torch.hub cached (``hub_code_dir()``) is used as it is; without
    it the code is fetched from GitHub, unless ``GANBENCH_OFFLINE``. Tests replace
    this function with a small network of the same interface.
    """
    local = hub_code_dir()
    if not local.is_dir() and inception._offline():
        raise MetricError(f"the DINOv2 network code ({HUB_REPO}) is not in {local} and GANBENCH_OFFLINE is set; "
                          f"unset GANBENCH_OFFLINE to let torch.hub fetch it once, or clone "
                          f"https://github.com/{HUB_REPO} into {local}")
    os.environ.setdefault("XFORMERS_DISABLED", "1")  # as torch-fidelity does: plain attention, any device
    with redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="xFormers is")
        try:
            if local.is_dir():
                return torch.hub.load(str(local), HUB_ENTRY, source="local", pretrained=False)
            return torch.hub.load(HUB_REPO, HUB_ENTRY, pretrained=False, trust_repo=True)
        except Exception as exc:
            raise MetricError(f"cannot build the DINOv2 network from {HUB_REPO} ({exc}); check the network, "
                              f"or clone https://github.com/{HUB_REPO} into {local}") from exc


def _bicubic_uint8(x: Tensor, size: tuple[int, int]) -> Tensor:
    """Antialiased bicubic resize (PIL's a = -0.5 kernel), rounded and clamped to 0..255."""
    x = torch.nn.functional.interpolate(x, size=size, mode="bicubic", align_corners=False, antialias=True)
    return x.round().clamp(0, 255)


def preprocess(x: Tensor) -> Tensor:
    """uint8 [N, 3, H, W] -> the ViT's input, as dgm-eval's transform makes it:
    PIL's BICUBIC resize to 224 x 224, scaled to [0, 1], ImageNet-normalised.

    PIL resizes in two passes, widths first, and keeps the intermediate image in
    uint8; so does this (rounded and clamped after each pass). One float pass
    instead differs from PIL by up to 21 levels on noisy 28 x 28 upscales (the
    clipped overshoot); two passes by at most 1 (docs/methodology.md)."""
    x = _bicubic_uint8(x.float(), (x.shape[2], INPUT_SIZE))
    x = _bicubic_uint8(x, (INPUT_SIZE, INPUT_SIZE)) / 255
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


class Dinov2Extractor(FeatureExtractorDinoV2):
    """torch-fidelity's DINOv2 extractor around a network ganbench loads from a
    given weights file, fed with dgm-eval's preprocessing (``preprocess``)."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        # FeatureExtractorDinoV2.__init__ would call torch.hub with weights of its own
        # choosing; only the base class's checks of the feature list are wanted.
        FeatureExtractorBase.__init__(self, name, features_list)
        if feature_extractor_weights_path is None:
            raise MetricError(f"{NAME}: no weights file given. " + how_to_get_weights())
        self.feature_extractor_internal_dtype = torch.float32
        model = build_network()
        try:
            model.load_state_dict(_load_state(Path(feature_extractor_weights_path)), strict=True)
        except RuntimeError as exc:  # keys or shapes that do not fit: random weights would pass silently
            raise MetricError(f"{NAME}: weights {feature_extractor_weights_path} do not fit DINOv2 ViT-L/14 "
                              f"({exc}); pass {WEIGHTS_FILENAME}") from exc
        self.model = model.float()
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: Tensor) -> tuple[Tensor, ...]:
        """uint8 [N, 3, H, W] -> (class token,), as torch-fidelity's forward returns it."""
        if not (torch.is_tensor(x) and x.dtype == torch.uint8 and x.dim() == 4 and x.shape[1] == 3):
            raise MetricError(f"{NAME}: expects uint8 [N, 3, H, W] images, got "
                              f"{getattr(x, 'dtype', type(x))} {tuple(getattr(x, 'shape', ()))}")
        out = {"dinov2": self.model(preprocess(x)).to(torch.float32)}
        return tuple(out[f] for f in self.features_list)


def to_rgb(images: Tensor) -> Tensor:
    """Grey images repeated to 3 channels; DINOv2 sees RGB only (as Inception does)."""
    return inception.to_rgb(images, NAME)
