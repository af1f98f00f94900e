"""The torch device a run trains on, checked before anything is built."""

from __future__ import annotations

import torch

from ganbench.core.errors import ConfigError


def torch_device(name: str) -> torch.device:
    """``name`` as a torch device that exists here, or a ConfigError saying what to pass."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device {name!r} is not a torch device; use cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r}: this machine has no usable CUDA device; use --device cpu")
    return device
