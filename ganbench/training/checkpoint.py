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


def load_checkpoint(run_dir: Path, events: list[str]) -> Optional[dict[str, Any]]:
    """The newest loadable checkpoint, or None. Every fallback is appended to
    ``events`` so the run record says what happened."""
    for name in (LATEST, PREVIOUS):
        path = Path(run_dir) / name
        if not path.exists():
            continue
        try:
            payload = safe_torch_load(path)
            if not isinstance(payload, dict) or "state" not in payload:
                raise CheckpointError(f"{path}: not a ganbench checkpoint")
            if name == PREVIOUS:
                events.append(f"resumed from {PREVIOUS} (latest checkpoint unusable)")
            return payload
        except CheckpointError as exc:
            events.append(f"ignored {name}: {exc}")
    if any("ignored" in e for e in events):
        events.append("no usable checkpoint: restarted from scratch")
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
