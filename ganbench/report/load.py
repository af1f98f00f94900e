"""Run records on disk -> pandas DataFrames the tables and figures read.

A record that cannot be read (bad JSON, unknown schema version, a missing or
ill-typed field) is skipped with a :class:`RecordWarning` naming the file; the
report goes on with the rest. Runs are classified, never dropped:

- ``finished``: status ``finished`` and every final metric finite;
- ``diverged``: status ``diverged``, a ``diverged`` entry, or final metrics
  missing or non-finite (a NaN FID is a divergence, not a number to average);
  a metric stored as null is *undefined* for that run (reverse KL with no
  high-quality sample): its final row holds NaN and the run stays finished;
- ``flagged``: ended (not diverged) with a ``health`` block whose ``ok`` is
  false: the training-health check (:mod:`ganbench.training.health`) saw it not
  train (no generator gradient, a flat critic loss, a generator that never
  moved). Its metrics score the initial generator, not a result. Records
  written before the block existed, or with a malformed one, are read as
  healthy (unknown);
- ``incomplete``: still ``running``, ``interrupted`` or ``failed``, or
  finished but not scored yet (``ganbench.evaluation.evaluate`` fills the metrics later).

Finished runs give final-metric rows and curves; diverged and flagged runs are
listed in ``runs`` and enter the tables at each metric's worst value (see
``tables.py``), each counted apart; incomplete ones are counted. Real-data records
(``runs/<benchmark>/real-data.json``, :mod:`ganbench.evaluation.realdata`) give
``real``: the same metrics on held-out real samples.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ganbench.core.errors import GanbenchError
from ganbench.core.record import FINAL_STATUSES, RECORD_NAME, SCHEMA_VERSION, STATUSES
from ganbench.evaluation.realdata import DECLARED_NAME, REAL_DATA_NAME

SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})
BUDGET_UNITS = ("flops", "seconds", "epochs", "g_steps")
_INCOMPLETE = set(STATUSES) - set(FINAL_STATUSES)

RUN_COLUMNS = ["benchmark", "variant", "seed", "dataset", "status", "outcome",
               "budget_unit", "budget_limit", "max_g_steps", "run_dir", "samples", "record", "machine"]
FINAL_COLUMNS = ["benchmark", "variant", "seed", "metric", "value"]
CURVE_COLUMNS = ["benchmark", "variant", "seed", "fraction", "flops", "seconds", "metric", "value"]


class RecordWarning(UserWarning):
    """A run record was skipped; the message names the file and the reason."""


class NoRecordsError(GanbenchError):
    """There is nothing to report on (no records, or none selected)."""


@dataclass(frozen=True)
class Skipped:
    """A record left out of the report, and why."""

    path: str
    reason: str


@dataclass
class Records:
    """Every readable record under a results directory, as tidy tables."""

    root: Path
    runs: pd.DataFrame
    finals: pd.DataFrame
    curves: pd.DataFrame
    skipped: list[Skipped] = field(default_factory=list)
    real: dict[str, dict] = field(default_factory=dict)       # benchmark -> real-data record
    declared: dict[str, dict] = field(default_factory=dict)   # benchmark -> benchmark.json


class _BadRecord(ValueError):
    pass


def _number(value) -> float:
    """A metric value as float; null, strings and the like become NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _require(record: dict, key: str, types: tuple):
    if key not in record:
        raise _BadRecord(f"missing field '{key}'")
    value = record[key]
    if not isinstance(value, types) or isinstance(value, bool):
        raise _BadRecord(f"field '{key}' has type {type(value).__name__}")
    return value


def _metrics_of(obj, where: str) -> dict[str, float]:
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _BadRecord(f"'{where}' is not an object")
    return {str(k): _number(v) for k, v in obj.items()}


def _budget(record: dict) -> tuple[str, float, object]:
    budget = _require(record, "budget", (dict,))
    unit, limit = budget.get("unit"), budget.get("limit")
    if unit not in BUDGET_UNITS:
        raise _BadRecord(f"budget unit {unit!r} is not one of {BUDGET_UNITS}")
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise _BadRecord("budget limit is missing or not a number")
    return unit, float(limit), budget.get("max_g_steps")


def _snapshots(record: dict) -> list[dict]:
    snaps = record.get("snapshots") or []
    if not isinstance(snaps, list) or not all(isinstance(s, dict) for s in snaps):
        raise _BadRecord("'snapshots' is not a list of objects")
    for snap in snaps:
        if "fraction" not in snap:
            raise _BadRecord("a snapshot has no 'fraction'")
    return sorted(snaps, key=lambda s: _number(s["fraction"]))


def _undefine_empty_kl(metrics: dict[str, float]) -> set[str]:
    """Reverse KL with no high-quality sample is undefined (set to NaN; returned).
    Records scored before ganbench stored it as null hold ln M there, the value
    of a perfect collapse."""
    if metrics.get("high_quality") == 0.0 and "reverse_kl" in metrics:
        metrics["reverse_kl"] = math.nan
        return {"reverse_kl"}
    return set()


def _outcome(status: str, record: dict, final: dict[str, float], undefined=frozenset()) -> str:
    if status in _INCOMPLETE:
        return "incomplete"
    if status == "diverged" or record.get("diverged"):
        return "diverged"
    health = record.get("health")
    if isinstance(health, dict) and health.get("ok") is False:
        return "flagged"   # scored or not: what it would score is not a trained generator
    if not final:
        # The trainer writes a finished record with empty metrics; scoring
        # (ganbench.evaluation.evaluate) comes later, and marks divergence itself.
        # Not scored yet is not diverged.
        return "incomplete"
    # null is "undefined for this run" (reverse KL without a high-quality
    # sample), a value the run legitimately has; NaN/inf is a divergence.
    if not all(math.isfinite(v) for k, v in final.items() if k not in undefined):
        return "diverged"
    return "finished"


def _read(path: Path) -> dict:
    """The record as a dict, checked to be JSON of a schema version we know."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _BadRecord(f"unreadable JSON ({err})") from None
    if not isinstance(record, dict):
        raise _BadRecord("not a JSON object")
    version = record.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise _BadRecord(f"unknown schema_version {version!r} "
                         f"(supported: {sorted(SUPPORTED_SCHEMA_VERSIONS)})")
    return record


def _parse(path: Path, root: Path) -> tuple[dict, list[dict], list[dict]]:
    """One record file -> (run row, final metric rows, curve rows)."""
    record = _read(path)
    variant = _require(record, "variant", (str,))
    dataset = _require(record, "dataset", (str,))
    seed = _require(record, "seed", (int,))
    status = _require(record, "status", (str,))
    if status not in STATUSES:
        raise _BadRecord(f"unknown status {status!r}")
    benchmark = record.get("benchmark")
    if benchmark is not None and not isinstance(benchmark, str):
        raise _BadRecord("field 'benchmark' is not a string")
    # A single `ganbench train` has no benchmark; keep it apart from suites.
    benchmark = benchmark or f"{dataset} (single runs)"
    unit, limit, max_g_steps = _budget(record)
    snaps = _snapshots(record)
    raw = record.get("metrics")
    if not raw and snaps:
        raw = snaps[-1].get("metrics")
    final = _metrics_of(raw, "metrics")
    undefined = frozenset(_undefine_empty_kl(final)
                          | {k for k, v in (raw or {}).items() if v is None})
    outcome = _outcome(status, record, final, undefined)
    run_dir = path.parent.relative_to(root).as_posix()
    samples = record.get("samples")
    key = {"benchmark": benchmark, "variant": variant, "seed": seed}
    run = {**key, "dataset": dataset, "status": status, "outcome": outcome,
           "budget_unit": unit, "budget_limit": limit, "max_g_steps": max_g_steps,
           "run_dir": run_dir, "samples": samples if isinstance(samples, str) else "",
           "record": path.relative_to(root).as_posix(), "machine": _machine(record.get("device"))}
    if outcome != "finished":
        return run, [], []
    finals = [{**key, "metric": m, "value": v} for m, v in final.items()]
    return run, finals, _curve_rows(key, snaps)


def _machine(device) -> str:
    """What made the record's numbers: the device name and, on CPU, torch's kernel
    level ("" when the record does not say). Rounding differs between machines."""
    if not isinstance(device, dict) or not isinstance(device.get("name"), str):
        return ""
    level = device.get("torch_capability")
    return f"{device['name']} ({level})" if isinstance(level, str) else device["name"]


def _curve_rows(key: dict, snaps: list[dict]) -> list[dict]:
    rows = []
    for snap in snaps:
        cost = {"fraction": _number(snap["fraction"]), "flops": _number(snap.get("flops")),
                "seconds": _number(snap.get("seconds"))}
        metrics = _metrics_of(snap.get("metrics"), "snapshot metrics")
        _undefine_empty_kl(metrics)   # undefined: no point on the curve
        for m, v in metrics.items():
            # A finished run may have had a non-finite metric mid-way (e.g. a
            # snapshot too collapsed to score); it has no point on the curve.
            if math.isfinite(v):
                rows.append({**key, **cost, "metric": m, "value": v})
    return rows


def load_records(results_dir: str | Path) -> Records:
    """Read every ``runs/**/record.json`` under ``results_dir``.

    Unreadable records are skipped with a :class:`RecordWarning`; a second
    record for the same (benchmark, variant, seed) is skipped the same way.
    Raises :class:`NoRecordsError` when no record is usable.
    """
    root = Path(results_dir)
    paths = sorted((root / "runs").glob(f"**/{RECORD_NAME}"), key=lambda p: p.as_posix())
    if not paths:
        raise NoRecordsError(f"no run records found: {root / 'runs'}/**/{RECORD_NAME} "
                             "matched nothing (run `ganbench run` first?)")
    runs, finals, curves, skipped, seen = [], [], [], [], set()
    for path in paths:
        name = path.relative_to(root).as_posix()
        try:
            run, fin, cur = _parse(path, root)
            key = (run["benchmark"], run["variant"], run["seed"])
            if key in seen:
                raise _BadRecord("duplicate of an earlier record for %s/%s/seed%d" % key)
        except _BadRecord as err:
            skipped.append(Skipped(name, str(err)))
            warnings.warn(f"skipping {name}: {err}", RecordWarning, stacklevel=2)
            continue
        seen.add(key)
        runs.append(run)
        finals += fin
        curves += cur
    if not runs:
        raise NoRecordsError(f"none of the {len(paths)} run records under {root} "
                             "could be read (see the warnings above)")
    return Records(root, pd.DataFrame(runs, columns=RUN_COLUMNS),
                   pd.DataFrame(finals, columns=FINAL_COLUMNS),
                   pd.DataFrame(curves, columns=CURVE_COLUMNS), skipped,
                   _side_records(root, REAL_DATA_NAME, skipped),
                   _side_records(root, DECLARED_NAME, skipped))


def _side_records(root: Path, name: str, skipped: list[Skipped]) -> dict[str, dict]:
    """``runs/<benchmark>/<name>`` per benchmark (real-data rows, declarations)."""
    found = {}
    for path in sorted((root / "runs").glob(f"*/{name}")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("benchmark"), str):
                raise ValueError("not an object naming its benchmark")
        except (OSError, ValueError) as err:
            rel = path.relative_to(root).as_posix()
            skipped.append(Skipped(rel, str(err)))
            warnings.warn(f"skipping {rel}: {err}", RecordWarning, stacklevel=3)
            continue
        found[data["benchmark"]] = data
    return found
