"""Samples a finished generator leaves next to its record (for reports)."""

from __future__ import annotations

import copy
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
def generate(generator: nn.Module, n: int, z_dim: int, seed: int, device="cpu", batch: int = 500,
             bn: str = "population") -> torch.Tensor:
    """n samples from a fixed noise stream, streamed in batches of ``batch``.

    ``bn = "population"``: in eval mode (batch norm with its running statistics,
    as PacGAN's evaluation); ``"batch"``: in training mode, each batch normalised
    on its own statistics, on a copy so the running statistics stay as they are.
    """
    was_training = generator.training
    if bn == "batch":
        generator = copy.deepcopy(generator).train()
    else:
        generator.eval()
    rng = torch.Generator().manual_seed(seed)
    out = [generator(torch.randn(min(batch, n - i), z_dim, generator=rng).to(device)).cpu() for i in range(0, n, batch)]
    generator.train(was_training)
    return torch.cat(out) if out else torch.empty(0)


def eval_seed(config) -> int:
    """The seed of the noise a run is scored on: the same z for every snapshot of a run;
    with ``eval_z_seed`` the same z for every run (PacGAN: seed 2333 for all trials)."""
    return config.seed + SAMPLE_SEED_OFFSET if getattr(config, "eval_z_seed", None) is None else config.eval_z_seed


def generate_for(generator: nn.Module, n: int, config, device="cpu") -> torch.Tensor:
    """n samples for scoring ``config``'s run: its evaluation noise and batch-norm mode."""
    return generate(generator, n, config.z_dim, eval_seed(config), device, bn=getattr(config, "eval_bn", "population"))


def write_final_samples(generator: nn.Module, info: DatasetInfo, run_dir: Path, config) -> Optional[str]:
    """Write samples.npy (2-D points) or samples.png (an image grid); return its name."""
    if info.kind == "points":
        points = generate_for(generator, POINT_SAMPLES, config, config.device).numpy().astype(np.float32)
        from io import BytesIO

        buffer = BytesIO()
        np.save(buffer, points)
        atomic_write_bytes(Path(run_dir) / "samples.npy", buffer.getvalue())
        return "samples.npy"
    images = generate_for(generator, GRID_SIDE**2, config, config.device)
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
