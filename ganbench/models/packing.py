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

from torch import Tensor

from ganbench.core.errors import ConfigError


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """[B*m, F, ...] -> [B, m*F, ...]: pack b is samples b*m .. b*m+m-1, in order.
    ``pack = 1`` returns ``x`` itself."""
    if pack == 1:
        return x
    if x.shape[0] % pack:
        raise ConfigError(f"packing m = {pack} needs a batch divisible by {pack}, got {x.shape[0]} samples")
    return x.reshape(x.shape[0] // pack, pack * x.shape[1], *x.shape[2:])
