"""The record a training run starts and ends with (the format and its reading
live in :mod:`ganbench.core.record`; this is the part that knows a training run)."""

from __future__ import annotations

from typing import Any

from ganbench.core.record import SCHEMA_VERSION, device_info, package_versions
from ganbench.variants.base import optimizer_record


def new_record(run, step_flops: dict, events: list[str]) -> dict[str, Any]:
    """A fresh record of ``run`` (a :class:`ganbench.training.trainer.Run`): what it is, before any step."""
    cfg = run.config
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": cfg.run_id,
        # "variant" is the name the run is filed under (the benchmark's entry, e.g.
        # PacGAN2); the objective trained is config["variant"].
        "benchmark": cfg.benchmark, "variant": cfg.label, "dataset": cfg.dataset, "seed": cfg.seed,
        "train_size": len(run.data),  # epochs reached = g_steps * batch_size / train_size
        "config": cfg.to_dict(), "data": run.data.source,
        "budget": {"unit": cfg.budget.unit, "limit": cfg.budget.limit, "max_g_steps": cfg.budget.max_g_steps},
        "step_flops": step_flops,
        "iteration_flops": cfg.n_critic * step_flops["d_step"] + step_flops["g_step"],
        "device": device_info(cfg.device), "versions": package_versions(),
        "optimizer": optimizer_record(run.opt_d),
        # None: snapshots and samples are the generator's own weights; else its EMA's (training/ema.py)
        "ema": run.g_ema.record() if run.g_ema is not None else None,
        "checkpoint": "checkpoint.pt", "samples": None, "metrics": {}, "resume_events": events,
    }


def finish_record(record: dict, state, meter, status: str) -> dict:
    """Copy the training state (a ``TrainState``) into the record, its status and the meter's progress."""
    record.update(state.to_dict())
    record["status"] = status
    record["progress"] = meter.progress(state.spent)
    return record
