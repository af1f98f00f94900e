"""Compute-to-target per variant: median FLOPs and seconds over seeds, seeds that never got there.

Two costs per run: the first snapshot that meets the target, and the snapshot
from which it held to the end of the run (``held_*``; a run ending below the
target never held it). The summary leads with the held cost: quality that
comes and goes between snapshots is not quality reached.

The target itself (conditions, parsing) lives in :mod:`ganbench.config.targets`; the
benchmark's declaration reaches the report through ``runs/<benchmark>/benchmark.json``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.config.targets import first_reached, held_from, parse_target
from ganbench.core.errors import ConfigError

from .load import Records
from .stats import bootstrap_median

TARGET_COLUMNS = ["variant", "runs", "reached", "never", "flops", "flops_low", "flops_high",
                  "seconds", "seconds_low", "seconds_high", "ended", "held_flops",
                  "held_flops_low", "held_flops_high", "held_seconds", "held_seconds_low",
                  "held_seconds_high"]
COST_COLUMNS = ["variant", "seed", "flops", "seconds", "held_flops", "held_seconds"]


def declared_target(declared: dict) -> tuple[tuple, str]:
    """(conditions, note) from a benchmark declaration; () when none or unreadable."""
    try:
        return parse_target(declared.get("target") or {}), str(declared.get("target_note", ""))
    except ConfigError as err:
        return (), f"target not evaluated: {err}"


def _run_snapshots(curves: pd.DataFrame) -> list[tuple[float, float, dict]]:
    snaps = []
    for _, group in curves.groupby("fraction", sort=True):
        first = group.iloc[0]
        snaps.append((float(first["flops"]), float(first["seconds"]),
                      dict(zip(group["metric"], group["value"]))))
    return snaps


def run_costs(records: Records, benchmark: str, conditions, real: dict) -> pd.DataFrame:
    """Per finished, diverged or flagged run: FLOPs and seconds to first reach the
    target and from which it held (inf: never)."""
    runs = records.runs[(records.runs["benchmark"] == benchmark)
                        & records.runs["outcome"].isin(["finished", "diverged", "flagged"])]
    curves = records.curves[records.curves["benchmark"] == benchmark]
    rows = []
    for run in runs.itertuples(index=False):
        first = held = (math.inf, math.inf)   # a diverged or not-training run did not end at quality: never
        if run.outcome == "finished":
            mine = curves[(curves["variant"] == run.variant) & (curves["seed"] == run.seed)]
            snaps = _run_snapshots(mine)
            first, held = first_reached(snaps, conditions, real), held_from(snaps, conditions, real)
        rows.append(dict(zip(COST_COLUMNS, (run.variant, run.seed, *first, *held))))
    return pd.DataFrame(rows, columns=COST_COLUMNS)


def cost_to_target(records: Records, benchmark: str, conditions, real: dict, variants) -> pd.DataFrame:
    """Per variant: runs counted, how many reached the target and how many ended the run
    meeting it, median cost of first reaching and of holding it [bootstrap CI]."""
    costs = run_costs(records, benchmark, conditions, real)
    rows = []
    for variant in variants:
        mine = costs[costs["variant"] == variant]
        row = {"variant": variant, "runs": len(mine),
               "reached": int(np.isfinite(mine["flops"].to_numpy(float)).sum())}
        row["never"] = row["runs"] - row["reached"]
        row["ended"] = int(np.isfinite(mine["held_flops"].to_numpy(float)).sum())
        for unit in ("flops", "seconds", "held_flops", "held_seconds"):
            est = bootstrap_median(mine[unit].to_numpy(float))
            row.update({unit: est.estimate, f"{unit}_low": est.low, f"{unit}_high": est.high})
        rows.append(row)
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
