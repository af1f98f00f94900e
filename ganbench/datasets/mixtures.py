"""2-D Gaussian mixtures used by PacGAN (Lin et al. 2018, Sec. 5.1) and VEEGAN
(Srivastava et al. 2017): ``ring8`` and ``grid25``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import torch
from torch import Tensor

from ganbench.datasets.base import DatasetInfo, DataSplit, register_dataset

# Points per split: plenty for batches of 64-512; generated, so it costs nothing.
SPLIT_SIZE = 100_000
# Different fixed seeds per split so train and test are independent draws.
SPLIT_SEEDS = {"train": 0, "test": 1}


def ring_centers(n_modes: int = 8, radius: float = 1.0) -> Tensor:
    """n modes evenly on a circle. k / n for k < n, not linspace(0, 2pi, n), which
    puts the first and last mode on the same point and yields n - 1 modes."""
    angles = 2 * math.pi * torch.arange(n_modes, dtype=torch.float64) / n_modes
    return torch.stack([radius * angles.cos(), radius * angles.sin()], dim=1).float()


def grid_centers(values=(-4.0, -2.0, 0.0, 2.0, 4.0)) -> Tensor:
    """The 5x5 grid {-4,-2,0,2,4}^2 (PacGAN / VEEGAN)."""
    v = torch.tensor(values)
    return torch.cartesian_prod(v, v)


def sample_mixture(centers: Tensor, std: float, n: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n points from an equal-weight isotropic Gaussian mixture, with mode ids."""
    modes = torch.randint(len(centers), (n,), generator=generator)
    noise = torch.randn(n, 2, generator=generator) * std
    return centers[modes] + noise, modes


def _mixture_split(name: str, centers: Tensor, std: float, split: str) -> DataSplit:
    generator = torch.Generator().manual_seed(SPLIT_SEEDS[split])
    points, modes = sample_mixture(centers, std, SPLIT_SIZE, generator)
    info = DatasetInfo(name=name, kind="points", shape=(2,), num_modes=len(centers), centers=centers, std=std)
    generator_params = {"centers": centers.tolist(), "std": std, "points": SPLIT_SIZE, "seed": SPLIT_SEEDS[split]}
    return DataSplit(points, modes, info, {"source": "generated", "generator": generator_params})


@register_dataset("ring8")
def load_ring8(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """8 modes on the unit circle, std 0.01 (PacGAN's ring setting)."""
    return _mixture_split("ring8", ring_centers(8, 1.0), 0.01, split)


@register_dataset("grid25")
def load_grid25(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """25 modes on {-4,-2,0,2,4}^2, std 0.05 (PacGAN's grid setting)."""
    return _mixture_split("grid25", grid_centers(), 0.05, split)
