"""Architectures: one backbone per data kind, parametrised by size."""

from __future__ import annotations

from torch import nn

from ganbench.datasets import DatasetInfo
from ganbench.models.dcgan import DcganCritic, DcganGenerator
from ganbench.models.mlp import MlpCritic, MlpGenerator


def build_models(info: DatasetInfo, *, width: int, z_dim: int, d_norm: str) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for a dataset; ``d_norm`` comes from the variant."""
    if info.kind == "points":
        return MlpGenerator(z_dim, width, out_dim=info.shape[0]), MlpCritic(info.shape[0], width)
    channels, height, _ = info.shape
    generator = DcganGenerator(height, channels, width, z_dim)
    critic = DcganCritic(height, channels, width, d_norm)
    return generator, critic


__all__ = ["build_models", "DcganCritic", "DcganGenerator", "MlpCritic", "MlpGenerator"]
