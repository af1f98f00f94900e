"""DCGAN-style generator and critic (Radford et al. 2016) for 28x28 and 32x32
images, parametrised by image size, channels and width."""

from __future__ import annotations

from torch import Tensor, nn

from ganbench.core.errors import ConfigError


def base_size(image_size: int) -> tuple[int, int]:
    """Halve the image size while it stays even and above 4: (base, n_upsamplings).
    28 -> 14 -> 7 (two stride-2 layers); 32 -> 16 -> 8 -> 4 (three)."""
    size, steps = image_size, 0
    while size % 2 == 0 and size > 4:
        size, steps = size // 2, steps + 1
    if steps == 0:
        raise ConfigError(f"image size {image_size} cannot be built by stride-2 layers; use 28, 32 or 64")
    return size, steps


def critic_norm(kind: str, channels: int) -> nn.Module:
    """The critic's normalisation, chosen by the variant."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        # Normalise over (C, H, W) per sample: layer norm for conv features
        # (Gulrajani et al. 2017, Sec. 4), with a per-channel affine.
        return nn.GroupNorm(1, channels)
    if kind in ("none", "spectral"):  # spectral norm acts on the weights (models.with_spectral_norm)
        return nn.Identity()
    raise ConfigError(f"unknown critic normalisation {kind!r}; valid: batch, layer, spectral, none")


class DcganGenerator(nn.Module):
    """z -> linear -> (width * 2^k, base, base) -> k x [ConvT(4, 2, 1), BN, ReLU] -> tanh."""

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64, z_dim: int = 64):
        super().__init__()
        base, steps = base_size(image_size)
        ch = width * 2 ** (steps - 1)
        self.project = nn.Sequential(nn.Linear(z_dim, ch * base * base), nn.BatchNorm1d(ch * base * base), nn.ReLU())
        blocks = []
        for step in range(steps):
            last = step == steps - 1
            out = channels if last else ch // 2
            blocks.append(nn.ConvTranspose2d(ch, out, 4, 2, 1))
            blocks += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU()]
            ch = out
        self.blocks = nn.Sequential(*blocks)
        self.shape = (width * 2 ** (steps - 1), base, base)
        self.z_dim = z_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.blocks(self.project(z).view(-1, *self.shape))


class DcganCritic(nn.Module):
    """image -> k x [Conv(4, 2, 1), norm, LeakyReLU(0.2)] -> linear -> raw score.
    No normalisation on the first layer (DCGAN, Sec. 3)."""

    def __init__(self, image_size: int = 28, channels: int = 1, width: int = 64, norm: str = "batch"):
        super().__init__()
        base, steps = base_size(image_size)
        layers, ch_in = [], channels
        for step in range(steps):
            ch_out = width * 2**step
            layers.append(nn.Conv2d(ch_in, ch_out, 4, 2, 1))
            layers += [nn.LeakyReLU(0.2)] if step == 0 else [critic_norm(norm, ch_out), nn.LeakyReLU(0.2)]
            ch_in = ch_out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(ch_in * base * base, 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)
