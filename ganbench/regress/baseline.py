"""The committed stability baseline: ``results/baseline/<benchmark>/<variant>.json``.

One small JSON per benchmark x variant of the stability suite, holding each
seed's status, generator steps and final metrics, their mean and spread, the
fingerprint of the suite definition it was made from, and how, when and why it
was made (reason, date, command, package versions, CPU model), with the reasons
and dates of the baselines it replaced. Written only by
``ganbench regress --update-baseline --reason TEXT``.
"""

from __future__ import annotations

import datetime
import json
import math
import platform
import statistics
from pathlib import Path

from ganbench.core.errors import GanbenchError
from ganbench.core.io import atomic_write_json
from ganbench.core.record import cpu_info, package_versions

SCHEMA = 1
HISTORY = 20  # earlier makes kept in each entry, newest last
# What changes numbers between machines; matching all of them means a rerun is bit-identical.
ENVIRONMENT_KEYS = ("torch", "numpy", "python")


def read_baseline(baseline_dir: Path) -> dict[tuple[str, str], dict]:
    """Every entry under ``baseline_dir`` keyed by (benchmark, variant); empty when there is none."""
    entries = {}
    for path in sorted(Path(baseline_dir).glob("*/*.json")):
        try:
            entry = json.loads(path.read_text())
            if entry.get("schema") != SCHEMA:
                raise ValueError(f"schema {entry.get('schema')!r}, this ganbench reads {SCHEMA}")
            entries[(entry["benchmark"], entry["variant"])] = entry
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise GanbenchError(f"{path}: unreadable baseline entry ({exc}); restore it from git "
                                "or remake it with --update-baseline --reason") from None
    return entries


def seed_values(entry: dict, metric: str) -> list[float]:
    """The metric's finite values over the entry's finished seeds, in seed order."""
    seeds = sorted(entry["seeds"].items(), key=lambda kv: int(kv[0]))
    found = [s["metrics"].get(metric) for _, s in seeds if s["status"] == "finished"]
    return [float(v) for v in found if v is not None and math.isfinite(float(v))]


def bad_seeds(entry: dict) -> int:
    """Seeds that diverged or failed."""
    return sum(s["status"] in ("diverged", "failed") for s in entry["seeds"].values())


def write_baseline(baseline_dir: Path, entries: dict, old: dict, reason: str, command: str, seconds: float,
                   prune: bool) -> None:
    """Write one JSON per benchmark x variant in ``entries``; with ``prune``, delete
    entries of ``old`` that no longer ran (a variant or benchmark removed)."""
    failed = [f"{b}/{v}/seed{k}: {s['error']}" for (b, v), e in entries.items()
              for k, s in e["seeds"].items() if s["status"] == "failed"]
    if failed:
        raise GanbenchError("not writing a baseline from a suite with failed runs:\n  " + "\n  ".join(failed))
    if not reason.strip():
        raise GanbenchError("--update-baseline needs a non-empty --reason saying why the baseline changes")
    made = {"reason": reason, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "command": command, "suite_seconds": round(seconds, 1), **environment()}
    for key, entry in sorted(entries.items()):
        previous = old.get(key)
        history = previous.get("history", []) + [_brief(previous["made"])] if previous else []
        metrics = sorted({m for s in entry["seeds"].values() for m in s.get("metrics", {})})
        summary = {m: {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0, "n": len(v)}
                   for m in metrics if (v := seed_values(entry, m))}
        out = {**entry, "diverged": bad_seeds(entry), "summary": summary, "made": made, "history": history[-HISTORY:]}
        atomic_write_json(Path(baseline_dir) / key[0] / f"{key[1]}.json", out)
    for benchmark, variant in sorted(set(old) - set(entries)) if prune else ():
        (Path(baseline_dir) / benchmark / f"{variant}.json").unlink(missing_ok=True)


def _brief(made: dict) -> dict:
    return {"reason": made.get("reason"), "date": made.get("date"), "torch": made.get("versions", {}).get("torch")}


def environment() -> dict:
    """Package versions and the machine (CPU model, architecture, OS; one torch thread per run)."""
    return {"versions": package_versions(),
            "machine": {"cpu": cpu_info()["name"], "arch": platform.machine(), "os": platform.system(), "threads": 1}}


def environment_matches(made: dict) -> bool:
    """True when this machine and these packages are those a baseline entry was made with."""
    here = environment()
    return here["machine"]["cpu"] == made.get("machine", {}).get("cpu") and all(
        here["versions"].get(p) == made.get("versions", {}).get(p) for p in ENVIRONMENT_KEYS)


def identical_seeds(baseline: dict, entries: dict) -> tuple[int, int]:
    """(seeds whose status, steps and metrics equal the baseline's exactly, seeds compared)."""
    def strip(seed):
        return seed and {k: seed.get(k) for k in ("status", "diverged", "g_steps", "metrics")}

    pairs = [(baseline[key]["seeds"].get(k), s) for key, e in entries.items() if key in baseline
             for k, s in e["seeds"].items()]
    return sum(strip(a) == strip(b) for a, b in pairs), len(pairs)
