"""Samples a finished generator leaves next to its record (for reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from ganbench.core.io import atomic_write_bytes
from ganbench.datasets import DatasetInfo, to_uint8

POINT_SAMPLES = 2500  # PacGAN's evaluation sample count for 2-D mixtures
GRID_SIDE = 8
SAMPLE_SEED_OFFSET = 10_000  # a stream of its own: sampling never shifts training


@torch.no_grad()
def generate(generator: nn.Module, n: int, z_dim: int, seed: int, device="cpu", batch: int = 500) -> torch.Tensor:
    """n samples in eval mode from a fixed noise stream, streamed in batches."""
    was_training = generator.training
    generator.eval()
    rng = torch.Generator().manual_seed(seed)
    out = [generator(torch.randn(min(batch, n - i), z_dim, generator=rng).to(device)).cpu() for i in range(0, n, batch)]
    generator.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def write_final_samples(generator: nn.Module, info: DatasetInfo, run_dir: Path, config) -> Optional[str]:
    """Write samples.npy (2-D points) or samples.png (an image grid); return its name."""
    seed = config.seed + SAMPLE_SEED_OFFSET
    if info.kind == "points":
        points = generate(generator, POINT_SAMPLES, config.z_dim, seed, config.device).numpy().astype(np.float32)
        from io import BytesIO

        buffer = BytesIO()
        np.save(buffer, points)
        atomic_write_bytes(Path(run_dir) / "samples.npy", buffer.getvalue())
        return "samples.npy"
    images = generate(generator, GRID_SIDE**2, config.z_dim, seed, config.device)
    write_grid(to_uint8(images), Path(run_dir) / "samples.png")
    return "samples.png"


def write_grid(images_uint8: torch.Tensor, path: Path, nrow: int = GRID_SIDE) -> None:
    """A PNG grid of uint8 images (deterministic bytes: no timestamps)."""
    from io import BytesIO

    from PIL import Image
    from torchvision.utils import make_grid

    grid = make_grid(images_uint8, nrow=nrow, padding=2, pad_value=255)
    buffer = BytesIO()
    Image.fromarray(grid.permute(1, 2, 0).numpy()).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
