"""Atomic file writes and safe checkpoint loading.

Every file ganbench writes goes through a temp file in the same directory and
``os.replace``, so a reader (or a run killed mid-write) sees either the old or
the new file, never a torn one.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ganbench.core.errors import CheckpointError, GanbenchError


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically (temp file + fsync + rename)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise GanbenchError(f"cannot write {path}: {exc.strerror}; check the directory exists and is writable") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise GanbenchError(f"cannot write {path}: {exc.strerror} (disk full or read-only?); earlier files are intact") from None


def atomic_write_json(path: Path, data: Any) -> None:
    """Deterministic JSON (sorted keys, fixed indent) written atomically."""
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=True) + "\n"
    atomic_write_bytes(path, text.encode())


def atomic_torch_save(path: Path, obj: Any) -> None:
    """``torch.save`` to memory, then an atomic write."""
    import torch  # here: the JSON writers above serve reports and the CLI, which need no torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def safe_torch_load(path: Path, map_location: str = "cpu") -> Any:
    """Load with ``weights_only=True``: tensors and plain containers only, so a
    checkpoint carrying a pickled object is refused instead of executed."""
    import torch

    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as exc:  # truncated zip, bad pickle, disallowed global
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: cannot be loaded safely ({reason})") from None
