"""Packing (PacGAN, Lin et al. 2018): the critic scores m samples at once.

A batch of ``B * m`` samples, all real or all fake, becomes ``B`` packs of
``m`` consecutive samples joined along the feature axis: 2-D points
[B*m, 2] -> [B, 2m] (PacGAN's code concatenates the m generator outputs along
axis 1), images [B*m, C, H, W] -> [B, mC, H, W] (channel concatenation, as
PacGAN's image experiments). The critic is built for m times the features of
one sample, and the trainer packs real and fake batches before the variant
sees them: to every variant a pack is simply one (larger) sample, so margins,
interpolates and gradient norms are per pack, and every variant packs
unchanged.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ganbench.core.errors import ConfigError


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """[B*m, F, ...] -> [B, m*F, ...]: pack b is samples b*m .. b*m+m-1, in order.
    ``pack = 1`` returns ``x`` itself."""
    if pack == 1:
        return x
    if x.shape[0] % pack:
        raise ConfigError(f"packing m = {pack} needs a batch divisible by {pack}, got {x.shape[0]} samples")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])


def running_statistics(generator: nn.Module) -> list[str]:
    """Names of the batch-norm buffers a training-mode forward of ``generator`` updates."""
    return [f"{name}.{buffer}" for name, m in generator.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training and m.track_running_stats
            for buffer in ("running_mean", "running_var", "num_batches_tracked")]


def per_slot(forward: Callable[[Tensor, dict], Tensor], running: dict[str, Tensor], z: Tensor,
             pack: int) -> tuple[Tensor, dict[str, Tensor]]:
    """The generator run once per pack slot; its outputs joined as :func:`pack_samples` joins
    them, and the running statistics after one averaged update (new tensors).

    ``forward(z_slot, stats)`` runs the generator with the batch-norm buffers ``stats``
    (:func:`running_statistics`' names), which it updates in place. ``z`` is [B*m, z_dim]
    in pack order (pack b holds rows b*m .. b*m+m-1), so slot k is rows k, k+m, ...; each
    slot's B rows go through the generator alone, so its batch norm normalises them on
    their own statistics (PacGAN's ``compute_losses`` calls the decoder once per slot).
    Every slot starts from the same running statistics, and they take one update with
    the mean of the m slots' batch statistics, as PacGAN's ``bn_updates`` average them,
    rather than m updates in a row. A pure function of its inputs, so a seed group
    (training/group.py) runs it per member inside ``vmap``.
    """
    slots = z.reshape(-1, pack, *z.shape[1:])
    outputs, updated = [], []
    for k in range(pack):
        stats = {name: value.clone() for name, value in running.items()}  # this slot's update, from the same start
        outputs.append(forward(slots[:, k], stats))
        updated.append(stats)
    # (1-a) r + a * batch_k is linear in batch_k, so the mean of the slots' updates is one averaged update
    averaged = {name: value + 1 if name.endswith("num_batches_tracked") else
                sum(u[name] for u in updated) / pack for name, value in running.items()}
    return torch.cat(outputs, dim=1), averaged


def generate_per_slot(generator: nn.Module, z: Tensor, pack: int) -> Tensor:
    """:func:`per_slot` on a module: its running statistics replaced by the averaged ones
    (new tensors, not ``copy_``: the slots' backward still holds the old)."""
    names = running_statistics(generator)
    running = {name: generator.get_buffer(name) for name in names}
    out, averaged = per_slot(lambda x, stats: functional_call(generator, stats, (x,)), running, z, pack)
    for name, value in averaged.items():
        module, _, buffer = name.rpartition(".")
        setattr(generator.get_submodule(module), buffer, value)
    return out
