"""CIFAR-10 (Krizhevsky 2009) from its python pickle batches.

Search order: ``<data_dir>/cifar-10-batches-py``, then a torchvision download
into ``$GANBENCH_CACHE/datasets`` when online.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ganbench.core.errors import DatasetError
from ganbench.datasets.base import DatasetInfo, DataSplit, cache_dir, downloads_allowed, found_in, register_dataset

BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
FOLDER = "cifar-10-batches-py"


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One pickle batch -> (uint8 [n, 3, 32, 32], int64 labels), validated."""
    try:
        with open(path, "rb") as fh:
            # The official batches are plain dicts of numpy arrays and lists.
            entry = pickle.load(fh, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8)
        labels = np.asarray(entry["labels"], dtype=np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"{path}: not a readable CIFAR-10 batch ({exc}); delete and re-fetch it") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise DatasetError(f"{path}: data shape {data.shape} / {len(labels)} labels is not CIFAR-10; re-fetch it")
    return data.reshape(-1, 3, 32, 32), labels


def _candidates(data_dir: Optional[Path]) -> list[Path]:
    dirs = [data_dir / FOLDER, data_dir] if data_dir else []
    return dirs + [cache_dir() / "datasets" / FOLDER]


def locate_batches(split: str, data_dir: Optional[Path]) -> tuple[list[Path], str, list[str]]:
    """Paths of a split's batch files, downloading with torchvision if allowed; also
    the place they were found and the places tried before it."""
    tried = []
    for directory in _candidates(data_dir):
        place = "1. user directory" if data_dir and directory.is_relative_to(data_dir) else "download cache"
        paths = [directory / name for name in BATCHES[split]]
        if all(p.is_file() for p in paths):
            return paths, f"{place.removeprefix('1. ')} {directory}", tried
        tried.append(f"{place} {directory}: missing {', '.join(BATCHES[split])}")
    if downloads_allowed():
        try:
            import torchvision

            torchvision.datasets.CIFAR10(str(cache_dir() / "datasets"), train=True, download=True)
            return [cache_dir() / "datasets" / FOLDER / name for name in BATCHES[split]], "download", tried
        except Exception as exc:
            tried.append(f"download failed ({type(exc).__name__}: {exc})")
    else:
        tried.append("download disabled by GANBENCH_OFFLINE=1")
    raise DatasetError("cifar10 not found; pass --data-dir holding cifar-10-batches-py. Tried:\n  " + "\n  ".join(tried))


@register_dataset("cifar10")
def load_cifar10(split: str, data_dir: Optional[Path] = None) -> DataSplit:
    """CIFAR-10: 32x32x3, 10 classes, 50k/10k."""
    paths, place, tried = locate_batches(split, data_dir)
    parts = [read_batch(p) for p in paths]
    data = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    info = DatasetInfo(name="cifar10", kind="images", shape=(3, 32, 32), num_modes=10)
    return DataSplit(data, labels, info, found_in("cifar10", split, place, paths, tried))
