"""Architectures: one backbone per data kind, parametrised by size."""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from ganbench.core.errors import ConfigError
from ganbench.datasets import DatasetInfo
from ganbench.models.dcgan import DcganCritic, DcganGenerator
from ganbench.models.mlp import Maxout, MlpCritic, MlpGenerator, init_normal
from ganbench.models.packing import generate_per_slot, pack_samples

MLP_DEPTH = 3  # hidden layers of the default MLPs


def build_models(info: DatasetInfo, *, width: int, z_dim: int, d_norm: str, config=None) -> tuple[nn.Module, nn.Module]:
    """(generator, critic) for a dataset; ``d_norm`` comes from the variant.

    "spectral" puts spectral normalisation on every linear and convolution
    layer of the critic (MLP or DCGAN) and no other normalisation layer.

    ``config`` (a resolved RunConfig) adds the per-network settings: widths,
    MLP depths, generator batch norm, a maxout critic, the init std, and a critic
    input for packs of ``pack`` samples (see ganbench.models.packing).
    Without it (or at its defaults) the models are today's, built in the same order.
    """
    g_width = getattr(config, "g_width", None) or width
    d_width = getattr(config, "d_width", None) or width
    pack = getattr(config, "pack", 1)
    if info.kind == "points":
        generator = MlpGenerator(z_dim, g_width, getattr(config, "g_depth", None) or MLP_DEPTH, out_dim=info.shape[0],
                                 batch_norm=getattr(config, "g_batch_norm", False))
        critic = MlpCritic(info.shape[0] * pack, d_width, getattr(config, "d_depth", None) or MLP_DEPTH,
                           maxout_pieces=getattr(config, "d_maxout_pieces", None))
    else:
        _mlp_only(config)
        channels, height, _ = info.shape
        generator = DcganGenerator(height, channels, g_width, z_dim)
        critic = DcganCritic(height, channels * pack, d_width, d_norm)
    if getattr(config, "init_std", None):
        init_normal(generator, config.init_std)
        init_normal(critic, config.init_std)
    return generator, with_spectral_norm(critic) if d_norm == "spectral" else critic


def with_spectral_norm(critic: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) on every Linear / Conv2d of ``critic``:
    W / sigma(W), sigma estimated by one power iteration per forward pass in training
    mode (the paper's Algorithm 1), torch's parametrization."""
    for module in list(critic.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            spectral_norm(module)
    return critic


def batchable_spectral_norm(module: nn.Module) -> nn.Module:
    """``module`` with each spectral norm's power iteration writing its vectors ``u``, ``v``
    with ``copy_`` instead of torch's ``out=``, which ``torch.func.vmap`` cannot batch (a
    seed group's template, training/group.py). The same operations, so the same values;
    runs alone keep torch's own."""
    for norm in module.modules():
        if hasattr(norm, "_power_method") and hasattr(norm, "_u"):  # torch's _SpectralNorm parametrization
            norm._power_method = types.MethodType(_power_method_in_place, norm)
    return module


@torch.no_grad()
def _power_method_in_place(self, weight_mat: torch.Tensor, n_power_iterations: int) -> None:
    """torch's ``_SpectralNorm._power_method`` (Miyato et al. Algorithm 1), in place with ``copy_``."""
    for _ in range(n_power_iterations):
        self._u.copy_(F.normalize(torch.mv(weight_mat, self._v), dim=0, eps=self.eps))
        self._v.copy_(F.normalize(torch.mv(weight_mat.H, self._u), dim=0, eps=self.eps))


def _mlp_only(config) -> None:
    """Depths, generator batch norm and maxout describe the MLPs; reject them for DCGAN."""
    for name in ("g_depth", "d_depth", "d_maxout_pieces"):
        if getattr(config, name, None) is not None:
            raise ConfigError(f"{name} applies to the MLP of 2-D datasets only; remove it for image datasets")
    if getattr(config, "g_batch_norm", False):
        raise ConfigError("g_batch_norm applies to the MLP of 2-D datasets only (the DCGAN generator always has it)")


__all__ = ["batchable_spectral_norm", "build_models", "with_spectral_norm", "DcganCritic", "DcganGenerator", "Maxout", "MlpCritic", "MlpGenerator",
           "generate_per_slot", "init_normal", "pack_samples"]
