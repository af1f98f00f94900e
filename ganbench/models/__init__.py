"""Architectures: one backbone per data kind, parametrised by size."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganbench.datasets import DatasetInfo
from ganbench.models.dcgan import DcganCritic, DcganGenerator
from ganbench.models.mlp import MlpCritic, MlpGenerator


def build_models(info: DatasetInfo, *, width: int, z_dim: int, d_norm: str) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for a dataset; ``d_norm`` comes from the variant.

    "spectral" puts spectral normalisation on every linear and convolution
    layer of the critic (MLP or DCGAN) and no other normalisation layer."""
    if info.kind == "points":
        generator, critic = MlpGenerator(z_dim, width, out_dim=info.shape[0]), MlpCritic(info.shape[0], width)
    else:
        channels, height, _ = info.shape
        generator = DcganGenerator(height, channels, width, z_dim)
        critic = DcganCritic(height, channels, width, d_norm)
    return generator, with_spectral_norm(critic) if d_norm == "spectral" else critic


def with_spectral_norm(critic: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every Linear / Conv2d of ``critic``:
    W / sigma(W), sigma estimated by one power iteration per forward pass in training
    mode (the paper's Algorithm 1), torch's parametrization."""
    for module in list(critic.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            spectral_norm(module)
    return critic


__all__ = ["build_models", "with_spectral_norm", "DcganCritic", "DcganGenerator", "MlpCritic", "MlpGenerator"]
