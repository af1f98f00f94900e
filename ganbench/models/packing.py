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

import torch
from torch import Tensor, nn

from ganbench.core.errors import ConfigError


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """[B*m, F, ...] -> [B, m*F, ...]: pack b is samples b*m .. b*m+m-1, in order.
    ``pack = 1`` returns ``x`` itself."""
    if pack == 1:
        return x
    if x.shape[0] % pack:
        raise ConfigError(f"packing m = {pack} needs a batch divisible by {pack}, got {x.shape[0]} samples")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])


def generate_per_slot(generator: nn.Module, z: Tensor, pack: int) -> Tensor:
    """The generator run once per pack slot, outputs joined as :func:`pack_samples` joins them.

    ``z`` is [B*m, z_dim] in pack order (pack b holds rows b*m .. b*m+m-1), so slot k
    is rows k, k+m, ...; each slot's B rows go through the generator alone, so its
    batch norm normalises them on their own statistics (PacGAN's ``compute_losses``
    calls the decoder once per slot). The running statistics then take one update
    with the mean of the m slots' batch statistics, as PacGAN's ``bn_updates``
    average them, rather than m updates in a row.
    """
    norms = [m for m in generator.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training and m.track_running_stats]
    before = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in norms]
    sums = [(torch.zeros_like(mean), torch.zeros_like(var)) for mean, var, _ in before]
    slots = z.reshape(-1, pack, *z.shape[1:])
    outputs = []
    for k in range(pack):
        for m, (mean, var, _) in zip(norms, before):  # every slot updates from the same running statistics;
            m.running_mean = mean.clone()  # new tensors, not copy_: the last slot's backward still holds the old
            m.running_var = var.clone()
        outputs.append(generator(slots[:, k]))
        for m, (mean_sum, var_sum) in zip(norms, sums):
            mean_sum += m.running_mean
            var_sum += m.running_var
    for m, (mean_sum, var_sum), (_, _, count) in zip(norms, sums, before):
        m.running_mean = mean_sum / pack  # (1-a) r + a * mean_k(batch_k): linear, so the mean of the updates
        m.running_var = var_sum / pack
        m.num_batches_tracked = count + 1
    return torch.cat(outputs, dim=1)
