"""What the trainer keeps of a run besides its weights: the budget charged per
iteration, the loss trace, divergence, snapshots, and checkpoints to resume from.
Shared by a run trained alone and a seed group's members; ``run`` is always a
:class:`ganbench.training.trainer.Run`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from torch import nn

from ganbench.core.errors import GanbenchError
from ganbench.core.io import atomic_torch_save
from ganbench.core.record import write_record
from ganbench.training import ema, packs
from ganbench.training.budget import BudgetMeter, Spent
from ganbench.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from ganbench.training.run_record import finish_record


@dataclass
class TrainState:
    """The mutable part of a run, checkpointed as plain data."""

    spent: Spent = field(default_factory=Spent)
    losses: dict = field(default_factory=lambda: {"g_step": [], "d_loss": [], "g_loss": []})
    snapshots: list = field(default_factory=list)
    diverged: Optional[dict] = None
    health: dict = field(default_factory=dict)  # ganbench.training.health's block (its running counts)

    def to_dict(self) -> dict:
        return {**vars(self), "spent": self.spent.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "TrainState":
        return cls(**{**d, "spent": Spent(**d["spent"])})  # a checkpoint from before "health" starts it empty



def account(state: TrainState, meter: BudgetMeter, run, seconds: float, d_losses, g_loss) -> None:
    """Charge one iteration (as many critic steps as it ran) to the budget, log losses, detect divergence."""
    spent, cfg, n_critic = state.spent, run.config, len(d_losses)
    spent.flops += meter.iteration_flops(n_critic)
    spent.seconds += seconds
    spent.d_steps += n_critic
    spent.g_steps += 1
    # real + fake per critic step, fake (and real, for RpGAN) per G step; a simultaneous step shares them
    g_batches = (cfg.update != "simultaneous") + packs.g_step_draws_real(run)
    spent.images_seen += cfg.batch_size * cfg.pack * (2 * n_critic + g_batches)
    meter.record_iteration(seconds, n_critic)
    bad = [("d_loss", v) for v in d_losses if not math.isfinite(v)] + [("g_loss", g_loss)] * (not math.isfinite(g_loss))
    if bad:
        state.diverged = {"g_step": spent.g_steps, "loss": bad[0][0], "value": str(bad[0][1])}
    if spent.g_steps % cfg.log_every == 0 or bad:
        state.losses["g_step"].append(spent.g_steps)
        state.losses["d_loss"].append(d_losses[-1] if math.isfinite(d_losses[-1]) else str(d_losses[-1]))
        state.losses["g_loss"].append(g_loss if math.isfinite(g_loss) else str(g_loss))


def take_due_snapshots(run, run_dir: Path, state: TrainState, meter: BudgetMeter, final: bool) -> None:
    """Save the generator (its EMA when on) at every budget fraction reached (all remaining at the end)."""
    fractions = run.config.snapshot_fractions
    progress = meter.progress(state.spent)
    for fraction in fractions[len(state.snapshots):]:
        if not final and not snapshot_due(run, state, meter):
            break
        rel = f"snapshots/g_{fraction:.2f}.pt"
        weights = unwrap(ema.scored_generator(run)).state_dict()
        atomic_torch_save(run_dir / rel, {k: v.detach().cpu() for k, v in weights.items()})
        s = state.spent
        state.snapshots.append({
            "fraction": fraction, "progress": progress, "g_step": s.g_steps, "flops": s.flops,
            "seconds": s.seconds, "images_seen": s.images_seen, "path": rel, "metrics": {},
        })


def snapshot_due(run, state: TrainState, meter: BudgetMeter) -> bool:
    """Whether the run's progress has reached its next snapshot's budget fraction."""
    fractions = run.config.snapshot_fractions[len(state.snapshots):]
    return bool(fractions) and meter.progress(state.spent) + 1e-12 >= fractions[0]


def unwrap(module: nn.Module) -> nn.Module:
    """The original module behind torch.compile's wrapper."""
    return getattr(module, "_orig_mod", module)


def checkpoint(run, run_dir: Path, state: TrainState, record: dict, meter: BudgetMeter, status="interrupted",
               rng: Optional[dict] = None):
    """Write the checkpoint, then the record describing it. ``rng``: the run's random state
    (a seed group member's stream, training/streams.py); None: the global one."""
    save_checkpoint(run_dir, {
        "config": run.config.to_dict(),
        "generator": unwrap(run.generator).state_dict(),
        "critic": unwrap(run.critic).state_dict(),
        "opt_g": run.opt_g.state_dict(),
        "opt_d": run.opt_d.state_dict(),
        "rng": rng if rng is not None else rng_state(run.device),
        "state": state.to_dict(),
        "seconds_per_iteration": meter.seconds_per_iteration[-20:], **ema.state(run),
    })
    write_record(run_dir, finish_record(record, state, meter, status))


def restore(run, run_dir: Path, at_step: Optional[int] = None) -> tuple[TrainState, list[str]]:
    """Load the newest usable checkpoint (at generator step ``at_step``, if given) into ``run``;
    a fresh state if none."""
    events: list[str] = []
    payload = load_checkpoint(run_dir, events, at_step)
    state = TrainState() if payload is None else TrainState.from_dict(payload["state"])
    if run.fixed_packs is not None:
        run.fixed_packs.drawn = packs.batches_drawn(run, state.spent)
    if payload is None:
        return state, events
    if payload["config"] != run.config.to_dict():
        raise GanbenchError(f"{run_dir} holds a run with a different config; use --force to restart it or another --out")
    run.generator.load_state_dict(payload["generator"])
    run.critic.load_state_dict(payload["critic"])
    run.opt_g.load_state_dict(payload["opt_g"])
    run.opt_d.load_state_dict(payload["opt_d"])
    ema.load(run, payload)
    set_rng_state(payload["rng"], run.device)
    events.append(f"resumed at generator step {state.spent.g_steps}")
    return state, events
