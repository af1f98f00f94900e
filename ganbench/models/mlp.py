"""MLP generator and critic for 2-D mixtures (the PacGAN / VEEGAN toy setting,
narrowed so a CPU can afford several seeds)."""

from torch import Tensor, nn


class MlpGenerator(nn.Module):
    """z -> 2-D point: ``depth`` hidden ReLU layers of ``width`` units."""

    def __init__(self, z_dim: int = 2, width: int = 128, depth: int = 3, out_dim: int = 2):
        super().__init__()
        layers, size = [], z_dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.ReLU()]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(size, out_dim))
        self.z_dim = z_dim

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MlpCritic(nn.Module):
    """2-D point -> raw score: ``depth`` hidden LeakyReLU(0.2) layers, no normalisation
    (the toy critic needs none, and every variant then shares one architecture)."""

    def __init__(self, in_dim: int = 2, width: int = 128, depth: int = 3):
        super().__init__()
        layers, size = [], in_dim
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(size, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
