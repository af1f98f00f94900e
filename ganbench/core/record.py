"""The run record: one schema-versioned JSON per run, the only thing reports read.

See docs/architecture.md for the schema. Wall-clock fields are listed in
``VOLATILE`` and ignored when two records are compared for reproducibility.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from ganbench.core.errors import ForeignRecordError, GanbenchError
from ganbench.core.io import atomic_write_json

SCHEMA_VERSION = 1
RECORD_NAME = "record.json"
FINAL_STATUSES = ("finished", "diverged")
REQUIRED = ("run_id", "status", "config", "spent", "snapshots")  # what resuming and scoring read
STATUSES = ("running", "interrupted", "failed") + FINAL_STATUSES
# Fields that depend on wall-clock time or the host; everything else is
# determined by config + seed on one machine (FLOP budgets).
VOLATILE = ("spent.seconds", "snapshots.seconds", "snapshots.scoring_seconds", "timing", "device", "versions",
            "resume_events", "paths", "data.source", "data.files")


def package_versions() -> dict[str, str]:
    """Versions of Python and every package that can change a result."""
    versions = {"python": platform.python_version()}
    for dist in ("ganbench", "torch", "torchvision", "torch-fidelity", "numpy", "scipy", "scikit-learn"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


#: CPU features that change a result's low digits or the kernels torch picks: vector
#: width (SSE4.2 < AVX2 < AVX-512, the levels of ``torch.backends.cpu.get_cpu_capability``),
#: fused multiply-add (one rounding instead of two), and the bf16/int8 dot-product
#: units MKL and oneDNN dispatch on (VNNI, AVX512-BF16/FP16, AMX); ARM's NEON/SVE.
NUMERIC_ISA = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
               "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve", "sve2")


def device_info(device: str) -> dict[str, Any]:
    """Device type and name; CPU runs also record the torch thread count, which CPU
    made them (model, ISA flags, torch's kernel level, MKL/oneDNN versions) and the
    allocator settings in force (``MALLOC_*``, ``LD_PRELOAD``; see executors.WORKER_MALLOC_ENV)."""
    import torch  # here, not at the top: reading records (reports, the CLI) needs no torch

    if device.startswith("cuda"):
        return {"type": "cuda", "name": torch.cuda.get_device_name(torch.device(device))}
    allocator = {k: v for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_") or k == "LD_PRELOAD"}
    return {"type": "cpu", **cpu_info(), "threads": torch.get_num_threads(), "allocator_env": allocator}


@functools.lru_cache(maxsize=1)
def cpu_info() -> dict[str, Any]:
    """The CPU as far as it decides numerics: two records whose ``cpu_info`` differ may
    differ from the 7th decimal of the first loss on, with identical configs and seeds."""
    import torch

    model, flags = _proc_cpuinfo()
    build = torch.__config__.show()
    return {
        "name": model or platform.processor() or platform.machine(),
        "machine": platform.machine(),
        "isa": [f for f in NUMERIC_ISA if f in flags],
        "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "cpus": os.cpu_count(),
        "mkl": _version_in(build, r"Math Kernel Library Version (\S+)"),
        "onednn": _version_in(build, r"MKL-DNN v(\S+)"),
    }


def _proc_cpuinfo(path: str = "/proc/cpuinfo") -> tuple[str | None, set[str]]:
    """(model name, flag set) of the first processor in /proc/cpuinfo; (None, set())
    where there is none (macOS, Windows). ARM kernels say "Features", x86 "flags"."""
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError:
        return None, set()
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    model = fields.get("model name") or fields.get("hardware") or fields.get("cpu model")
    return model or None, set((fields.get("flags") or fields.get("features") or "").split())


def _version_in(text: str, pattern: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


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


def finished_record(run_dir: Path) -> dict | None:
    """The record of a run that already ended, if there is one."""
    if not record_path(run_dir).exists():
        return None
    try:
        record = read_record(run_dir)
    except ForeignRecordError as exc:  # another version's result: not ours to overwrite
        raise ForeignRecordError(f"{exc}; nothing was changed: use another --out, or --force to redo the run "
                                 "and overwrite it") from None
    except GanbenchError:
        return None  # unreadable (e.g. cut off): treat as not done; the checkpoint decides
    return record if record.get("status") in FINAL_STATUSES else None
