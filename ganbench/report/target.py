"""Compute-to-target per variant: median FLOPs and seconds over seeds, seeds that never got there.

The target itself (conditions, parsing) lives in :mod:`ganbench.config.targets`; the
benchmark's declaration reaches the report through ``runs/<benchmark>/benchmark.json``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.config.targets import first_reached, parse_target
from ganbench.core.errors import ConfigError

from .load import Records
from .stats import bootstrap_median

TARGET_COLUMNS = ["variant", "runs", "reached", "never", "flops", "flops_low", "flops_high",
                  "seconds", "seconds_low", "seconds_high"]


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
    """Per finished, diverged or flagged run: FLOPs and seconds to target (inf: never)."""
    runs = records.runs[(records.runs["benchmark"] == benchmark)
                        & records.runs["outcome"].isin(["finished", "diverged", "flagged"])]
    curves = records.curves[records.curves["benchmark"] == benchmark]
    rows = []
    for run in runs.itertuples(index=False):
        flops = seconds = math.inf   # a diverged or not-training run did not end at quality: never
        if run.outcome == "finished":
            mine = curves[(curves["variant"] == run.variant) & (curves["seed"] == run.seed)]
            flops, seconds = first_reached(_run_snapshots(mine), conditions, real)
        rows.append({"variant": run.variant, "seed": run.seed, "flops": flops, "seconds": seconds})
    return pd.DataFrame(rows, columns=["variant", "seed", "flops", "seconds"])


def cost_to_target(records: Records, benchmark: str, conditions, real: dict, variants) -> pd.DataFrame:
    """Per variant: runs counted, how many reached the target, median cost [bootstrap CI]."""
    costs = run_costs(records, benchmark, conditions, real)
    rows = []
    for variant in variants:
        mine = costs[costs["variant"] == variant]
        row = {"variant": variant, "runs": len(mine),
               "reached": int(np.isfinite(mine["flops"]).sum())}
        row["never"] = row["runs"] - row["reached"]
        for unit in ("flops", "seconds"):
            est = bootstrap_median(mine[unit].to_numpy(float))
            row.update({unit: est.estimate, f"{unit}_low": est.low, f"{unit}_high": est.high})
        rows.append(row)
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
