"""MLP generator and critic for 2-D mixtures (the PacGAN / VEEGAN toy setting,
narrowed by default so a CPU can afford several seeds; PacGAN's own setting,
batch norm and a maxout critic, is an option: see benchmarks/repro/)."""

import torch
from torch import Tensor, nn

# PacGAN's population statistics: p <- 0.05 * batch + 0.95 * p (fjxmlzn/PacGAN,
# synthetic_data_experiments/2DRing_GAN&PacGAN/pacgan_task.py, bn_updates).
BN_MOMENTUM = 0.05


class MlpGenerator(nn.Module):
    """z -> 2-D point: ``depth`` hidden ReLU layers of ``width`` units.

    With ``batch_norm`` each hidden layer is Linear (no bias: batch norm's shift
    replaces it) -> BatchNorm1d -> ReLU, as PacGAN's generator (``use_bias=False``
    on the hidden layers, a bias on the output layer only).
    """

    def __init__(self, z_dim: int = 2, width: int = 128, depth: int = 3, out_dim: int = 2, batch_norm: bool = False):
        super().__init__()
        layers, size = [], z_dim
        for _ in range(depth):
            if batch_norm:
                layers += [nn.Linear(size, width, bias=False), nn.BatchNorm1d(width, momentum=BN_MOMENTUM), nn.ReLU()]
            else:
                layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(size, out_dim))
        self.z_dim = z_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Maxout(nn.Module):
    """A linear map to ``units * pieces`` values, then the max over each unit's
    ``pieces`` (Goodfellow et al. 2013; Blocks' ``LinearMaxout``, which PacGAN's
    critic uses: output unit j is max_k of the affine piece j * pieces + k)."""

    def __init__(self, in_dim: int, units: int, pieces: int):
        super().__init__()
        self.linear = nn.Linear(in_dim, units * pieces)
        self.units, self.pieces = units, pieces

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(x.shape[0], self.units, self.pieces).amax(dim=2)


class MlpCritic(nn.Module):
    """2-D point -> raw score: ``depth`` hidden LeakyReLU(0.2) layers, no normalisation
    (the toy critic needs none, and every variant then shares one architecture).

    With ``maxout_pieces`` the hidden layers are maxout layers of ``width`` units
    (PacGAN: 3 layers x 200 units x 5 pieces), then a linear output.
    """

    def __init__(self, in_dim: int = 2, width: int = 128, depth: int = 3, maxout_pieces: int | None = None):
        super().__init__()
        layers, size = [], in_dim
        for _ in range(depth):
            layers += [Maxout(size, width, maxout_pieces)] if maxout_pieces else [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(size, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


@torch.no_grad()
def init_normal(module: nn.Module, std: float) -> None:
    """Weights of every linear / convolution ~ N(0, std^2), biases 0; normalisation
    layers keep scale 1, shift 0 (PacGAN: IsotropicGaussian(0.02), Constant(0))."""
    for layer in module.modules():
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            layer.weight.normal_(0.0, std)
            if layer.bias is not None:
                layer.bias.zero_()
