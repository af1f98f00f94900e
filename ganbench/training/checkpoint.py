"""Training checkpoints: atomic, two generations deep, loaded with weights_only.

``checkpoint.pt`` is the latest; the previous one is kept as
``checkpoint.prev.pt`` so a corrupt latest file falls back one generation
instead of losing the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import torch

from ganbench.core.errors import CheckpointError
from ganbench.core.io import atomic_torch_save, safe_torch_load

LATEST = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"


def save_checkpoint(run_dir: Path, payload: dict[str, Any]) -> None:
    """Keep the current latest as previous, then write the new latest atomically.

    The previous generation is made by a hard link and a rename, so at every
    instant a complete ``checkpoint.pt`` exists (a kill never leaves a gap).
    """
    latest, previous = Path(run_dir) / LATEST, Path(run_dir) / PREVIOUS
    if latest.exists():
        link = previous.with_suffix(".link.tmp")
        link.unlink(missing_ok=True)
        os.link(latest, link)
        os.replace(link, previous)
    atomic_torch_save(latest, payload)


def load_checkpoint(run_dir: Path, events: list[str], g_step: Optional[int] = None) -> Optional[dict[str, Any]]:
    """The newest loadable checkpoint, or None. Every fallback is appended to
    ``events`` so the run record says what happened. With ``g_step``, the newest
    one at that generator step (a seed group's members resume at one step; 0: a
    fresh start), and a usable checkpoint ahead of it is dropped, so the files never
    hold a generation the member did not train from. Without ``g_step`` no file changes."""
    latest, previous = Path(run_dir) / LATEST, Path(run_dir) / PREVIOUS
    ahead = False  # a usable checkpoint at another step than the group's
    for path in (latest, previous):
        payload = _loadable(path, events)
        if payload is None:
            continue
        if g_step is not None and payload["state"]["spent"]["g_steps"] != g_step:
            ahead = True
            continue
        if path == previous:
            why = "latest checkpoint unusable" if g_step is None else f"to rejoin its seed group at step {g_step}"
            events.append(f"resumed from {PREVIOUS} ({why})")
            if g_step is not None:  # the latest is ahead of the group: it goes (a run alone keeps its files)
                os.replace(previous, latest)
        return payload
    if ahead and g_step == 0:  # the group restarts, and this member with it
        latest.unlink(missing_ok=True)
        previous.unlink(missing_ok=True)
        events.append("restarted from scratch to rejoin its seed group (the newest step all members share is "
                      "a fresh start)")
    elif any("ignored" in e for e in events):
        events.append("no usable checkpoint: restarted from scratch")
    return None


def checkpoint_steps(run_dir: Path) -> set[int]:
    """The generator steps a run can resume at: its loadable checkpoints', and 0 (a fresh
    start is always possible, so a seed group's members always share a step)."""
    payloads = [_loadable(Path(run_dir) / name, []) for name in (LATEST, PREVIOUS)]
    return {p["state"]["spent"]["g_steps"] for p in payloads if p is not None} | {0}


def group_resume_step(run_dirs: list[Path], checkpoint_every: int) -> Optional[int]:
    """The generator step a seed group's members resume at together: the newest step all
    of them can resume at (:func:`checkpoint_steps`), so a kill between two members'
    checkpoint writes, or a lost node between their pushes, leaves the group whole. None
    (each resumes at its own latest, and members at different steps train apart) when a
    member would drop more than one checkpoint interval of training to get there."""
    steps = [checkpoint_steps(d) for d in run_dirs]
    if not steps:
        return None
    at = max(set.intersection(*steps))
    return at if all(max(s) - at <= checkpoint_every for s in steps) else None


def _loadable(path: Path, events: list[str]) -> Optional[dict[str, Any]]:
    if not path.exists():
        return None
    try:
        payload = safe_torch_load(path)
        if not isinstance(payload, dict) or "state" not in payload:
            raise CheckpointError(f"{path}: not a ganbench checkpoint")
        return payload
    except CheckpointError as exc:
        events.append(f"ignored {path.name}: {exc}")
        return None


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """The random streams training draws from."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)
