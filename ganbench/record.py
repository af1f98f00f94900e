"""The run record: one schema-versioned JSON per run, the only thing reports read.

See docs/architecture.md for the schema. Wall-clock fields are listed in
``VOLATILE`` and ignored when two records are compared for reproducibility.
"""

from __future__ import annotations

import json
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from ganbench.errors import ForeignRecordError, GanbenchError
from ganbench.io import atomic_write_json

SCHEMA_VERSION = 1
RECORD_NAME = "record.json"
FINAL_STATUSES = ("finished", "diverged")
REQUIRED = ("run_id", "status", "config", "spent", "snapshots")  # what resuming and scoring read
STATUSES = ("running", "interrupted", "failed") + FINAL_STATUSES
# Fields that depend on wall-clock time or the host; everything else is
# determined by config + seed on one machine (FLOP budgets).
VOLATILE = ("spent.seconds", "snapshots.seconds", "timing", "device", "versions", "resume_events", "paths",
            "data.source", "data.files")


def package_versions() -> dict[str, str]:
    """Versions of Python and every package that can change a result."""
    versions = {"python": platform.python_version()}
    for dist in ("ganbench", "torch", "torchvision", "torch-fidelity", "numpy", "scipy", "scikit-learn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def device_info(device: str) -> dict[str, Any]:
    """Device type and name; CPU runs also record the torch thread count."""
    if device.startswith("cuda"):
        return {"type": "cuda", "name": torch.cuda.get_device_name(torch.device(device))}
    return {"type": "cpu", "name": platform.processor() or platform.machine(), "threads": torch.get_num_threads()}


def record_path(run_dir: Path) -> Path:
    return Path(run_dir) / RECORD_NAME


def write_record(run_dir: Path, record: dict[str, Any]) -> None:
    """Write the record atomically."""
    atomic_write_json(record_path(run_dir), record)


def read_record(run_dir_or_file: Path) -> dict[str, Any]:
    """Read and validate a record; unknown schema versions are an error naming the file."""
    path = Path(run_dir_or_file)
    path = path if path.suffix == ".json" else record_path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise GanbenchError(f"{path}: no run record here; train the run first") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise GanbenchError(f"{path}: unreadable run record ({exc}); delete it to redo the run") from None
    if not isinstance(record, dict):
        raise ForeignRecordError(f"{path}: a JSON {type(record).__name__}, not a run record (an object)")
    if record.get("schema_version") != SCHEMA_VERSION:
        raise ForeignRecordError(f"{path}: schema_version {record.get('schema_version')!r} (another ganbench "
                                 f"version wrote it?), this ganbench reads {SCHEMA_VERSION}")
    if missing := [k for k in REQUIRED if k not in record]:
        raise ForeignRecordError(f"{path}: run record without {', '.join(missing)}")
    return record


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """The record without volatile (wall-clock / host) fields."""
    out = json.loads(json.dumps(record))
    for dotted in VOLATILE:
        head, _, tail = dotted.partition(".")
        if not tail:
            out.pop(head, None)
        elif isinstance(out.get(head), dict):
            out[head].pop(tail, None)
        elif isinstance(out.get(head), list):
            for item in out[head]:
                item.pop(tail, None)
    return out


def python_command() -> str:
    """The interpreter running ganbench (recorded for debugging, volatile)."""
    return sys.executable
