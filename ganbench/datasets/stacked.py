"""Stacked MNIST-style datasets: three random images as the R, G, B channels,
so 10^3 = 1000 modes (VEEGAN, Srivastava et al. 2017; PacGAN Sec. 5.2)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import torch

from ganbench.datasets.base import DatasetInfo, DataSplit, load_dataset, register_dataset

# Fixed per split so every user stacks the same triples.
STACK_SEEDS = {"train": 0, "test": 1}


def stack_split(base: DataSplit, name: str, split: str) -> DataSplit:
    """One stacked image per base image: channel c takes a uniformly random
    image; the mode id is 100 * c0 + 10 * c1 + c2 of the three class labels."""
    generator = torch.Generator().manual_seed(STACK_SEEDS[split])
    n = len(base)
    picks = torch.randint(n, (n, 3), generator=generator)
    data = base.data[picks, 0]  # [n, 3, H, W]
    classes = base.labels[picks]
    modes = 100 * classes[:, 0] + 10 * classes[:, 1] + classes[:, 2]
    info = DatasetInfo(name=name, kind="images", shape=tuple(data.shape[1:]), num_modes=1000)
    source = {**base.source, "stacked": {"base": base.info.name, "seed": STACK_SEEDS[split]}}
    return DataSplit(data.contiguous(), modes, info, source)


@register_dataset("stacked-mnist")
def load_stacked_mnist(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """Stacked MNIST: 28x28x3, 1000 modes."""
    return stack_split(load_dataset("mnist", split, data_dir), "stacked-mnist", split)


@register_dataset("stacked-fashion-mnist")
def load_stacked_fashion_mnist(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """Stacked Fashion-MNIST: 28x28x3, 1000 modes."""
    return stack_split(load_dataset("fashion-mnist", split, data_dir), "stacked-fashion-mnist", split)
