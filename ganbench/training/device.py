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
    if device.type == "cuda":
        # Full fp32 on GPUs too: PyTorch lets cuDNN convolutions run in TF32 on Ampere and
        # later, which would make GPU records differ from CPU ones in precision, not just
        # rounding. R3GAN's trainer turns TF32 off the same way (training_loop.py l.155-156);
        # the autocast_bf16 option is the explicit way to trade precision for speed.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return device


def compile_models(run) -> None:
    """``torch.compile`` the generator and (unless differentiated twice) the critic."""
    # A critic differentiated twice (WGAN-GP's penalty) stays eager: AOTAutograd
    # "does not currently support double backward".
    run.generator = torch.compile(run.generator)
    if not run.variant.double_backward:
        run.critic = torch.compile(run.critic)
