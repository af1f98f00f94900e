"""On-disk cache of real-data features, statistics, k-NN radii and NDB bins.

Real data is scored against every snapshot of every run, so its features are
computed once. The key names everything the entry depends on: dataset, split,
sample count, extractor name and the sha256 of its weights file; a changed
extractor therefore never reuses a stale entry. Location:
``$GANBENCH_CACHE/features`` (default ``~/.cache/ganbench/features``).
Writes are atomic (temp file + ``os.replace``); an unreadable entry is
recomputed, never trusted.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Callable

import torch

#: Bump when the content or meaning of entries changes.
CACHE_VERSION = 1


def cache_root() -> Path:
    """``$GANBENCH_CACHE/features``, default ``~/.cache/ganbench/features``."""
    base = os.environ.get("GANBENCH_CACHE") or Path.home() / ".cache" / "ganbench"
    return Path(base) / "features"


def cache_key(dataset: str, split: str, n: int | str, what: str, sha256: str | None = None) -> str:
    """File-name-safe key, e.g. ``fashion-mnist__test__n10000__fmnist-cnn__<sha256>__v1``."""
    parts = [dataset, split, f"n{n}", what] + ([sha256] if sha256 else []) + [f"v{CACHE_VERSION}"]
    return re.sub(r"[^A-Za-z0-9._-]", "_", "__".join(parts))


def _atomic_save(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a shared cache should stay readable
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_or_compute(key: str, compute: Callable[[], dict]) -> dict:
    """Return the cached dict of tensors under ``key``, computing and storing it on a miss."""
    path = cache_root() / f"{key}.pt"
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # truncated or foreign file: recompute and overwrite
            pass
    value = compute()
    _atomic_save(value, path)
    return value
