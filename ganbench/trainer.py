"""The budgeted trainer: the only training loop in ganbench.

Every variant trains through :func:`train`. The loop reads top to bottom:
build the run, restore a checkpoint if one exists, count what an iteration
costs, then iterate (n_critic critic steps + one generator step) while the
next iteration fits the budget, taking generator snapshots at fixed fractions
of the budget and checkpoints every few steps. Divergence ends the run as
``diverged``; Ctrl-C ends it as ``interrupted`` with a checkpoint to resume from.
"""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn
from tqdm import tqdm

from ganbench import samples
from ganbench.budget import BudgetMeter, Spent, measure_step_flops
from ganbench.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from ganbench.config import RunConfig, resolve
from ganbench.datasets import DataSplit, load_dataset, to_model_space
from ganbench.errors import GanbenchError
from ganbench.io import atomic_torch_save
from ganbench.models import build_models
from ganbench.pause import pause_point
from ganbench.record import FINAL_STATUSES, SCHEMA_VERSION, device_info, package_versions, read_record, record_path, write_record
from ganbench.variants import Variant, make_variant

#: The seconds budget's time source; tests replace it with a fake clock.
clock = time.perf_counter


@dataclass
class Run:
    """Everything built from a config: data, losses, models, optimisers."""

    config: RunConfig
    data: DataSplit
    variant: Variant
    generator: nn.Module
    critic: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    device: torch.device

    def real_batch(self) -> torch.Tensor:
        """A uniformly drawn batch of real samples in model space, on the device."""
        idx = torch.randint(len(self.data), (self.config.batch_size,))
        batch = self.data.data[idx].to(self.device)
        batch = to_model_space(batch) if batch.dtype == torch.uint8 else batch
        return batch.contiguous(memory_format=torch.channels_last) if self.config.channels_last else batch

    def sample_z(self) -> torch.Tensor:
        return torch.randn(self.config.batch_size, self.config.z_dim, device=self.device)


@dataclass
class TrainState:
    """The mutable part of a run, checkpointed as plain data."""

    spent: Spent = field(default_factory=Spent)
    losses: dict = field(default_factory=lambda: {"g_step": [], "d_loss": [], "g_loss": []})
    snapshots: list = field(default_factory=list)
    diverged: Optional[dict] = None

    def to_dict(self) -> dict:
        return {"spent": self.spent.to_dict(), "losses": self.losses, "snapshots": self.snapshots, "diverged": self.diverged}

    @classmethod
    def from_dict(cls, d: dict) -> "TrainState":
        return cls(Spent(**d["spent"]), d["losses"], d["snapshots"], d["diverged"])


def build_run(config: RunConfig, data: DataSplit) -> Run:
    """Seed, build models and optimisers exactly as the (resolved) config says."""
    torch.manual_seed(config.seed)
    device = torch.device(config.device)
    variant = make_variant(config.variant, **config.variant_options)
    generator, critic = build_models(data.info, width=config.width, z_dim=config.z_dim, d_norm=config.d_norm)
    generator, critic = generator.to(device), critic.to(device)
    if config.channels_last:
        generator, critic = generator.to(memory_format=torch.channels_last), critic.to(memory_format=torch.channels_last)
    betas = tuple(config.betas)
    opt_g = torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(critic.parameters(), lr=config.lr, betas=betas, weight_decay=variant.d_weight_decay())
    return Run(config, data, variant, generator, critic, opt_g, opt_d, device)


def train_iteration(run: Run) -> tuple[list[float], float]:
    """n_critic critic steps then one generator step; returns their losses."""
    autocast = torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.config.autocast_bf16)
    d_losses = []
    run.critic.requires_grad_(True)
    for _ in range(run.config.n_critic):
        real = run.real_batch()
        with torch.no_grad(), autocast:
            fake = run.generator(run.sample_z())
        run.opt_d.zero_grad(set_to_none=True)
        with autocast:
            d_loss = run.variant.d_loss(run.critic, real, fake)
        d_loss.backward()
        run.opt_d.step()
        d_losses.append(d_loss.detach())
    run.critic.requires_grad_(False)  # the generator step needs no critic gradients
    run.opt_g.zero_grad(set_to_none=True)
    with autocast:
        g_loss = run.variant.g_loss(run.critic, run.generator(run.sample_z()))
    g_loss.backward()
    run.opt_g.step()
    values = torch.stack(d_losses + [g_loss.detach()]).float().tolist()  # one device sync per iteration
    return values[:-1], values[-1]


def train(config: RunConfig, run_dir: Path, *, force: bool = False, progress: bool = False) -> dict[str, Any]:
    """Train one run into ``run_dir`` and return its record.

    A finished (or diverged) run is returned as is unless ``force``; an
    interrupted one resumes from its checkpoint and, on CPU with a FLOP budget,
    ends with the same record as an uninterrupted run.
    """
    run_dir = Path(run_dir)
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    if done := finished_record(run_dir):
        return done
    data = load_dataset(config.dataset, "train", config.data_dir)
    config = resolve(config, data.info.kind)
    run = build_run(config, data)
    step_flops = measure_step_flops(run.generator, run.critic, run.variant, run.real_batch, run.sample_z)
    state, events = restore(run, run_dir)
    meter = BudgetMeter(config.budget, config.n_critic * step_flops["d_step"] + step_flops["g_step"])
    if config.compile:
        # A critic differentiated twice (WGAN-GP's penalty) stays eager: AOTAutograd
        # "does not currently support double backward".
        run.generator = torch.compile(run.generator)
        if not run.variant.double_backward:
            run.critic = torch.compile(run.critic)
    record = new_record(run, step_flops, events)
    write_record(run_dir, finish_record(record, state, meter, "interrupted"))
    bar = tqdm(total=100, unit="%", desc=record["run_id"], disable=not progress, leave=False)
    try:
        while state.diverged is None and meter.next_fits(state.spent):
            start = clock()
            d_losses, g_loss = train_iteration(run)
            if run.device.type == "cuda":
                torch.cuda.synchronize(run.device)
            account(state, meter, run, clock() - start, d_losses, g_loss)
            take_due_snapshots(run, run_dir, state, meter, final=False)
            bar.update(round(100 * meter.progress(state.spent)) - bar.n)
            if state.spent.g_steps % config.checkpoint_every == 0:
                checkpoint(run, run_dir, state, record, meter)
            pause_point(record["run_id"], state.spent.g_steps)
    except KeyboardInterrupt:
        checkpoint(run, run_dir, state, record, meter)
        raise
    finally:
        bar.close()
    if state.diverged is None:
        take_due_snapshots(run, run_dir, state, meter, final=True)
        record["samples"] = samples.write_final_samples(run.generator, run.data.info, run_dir, config)
    status = "diverged" if state.diverged else "finished"
    checkpoint(run, run_dir, state, record, meter, status=status)
    return record


def account(state: TrainState, meter: BudgetMeter, run: Run, seconds: float, d_losses, g_loss) -> None:
    """Charge one iteration to the budget, log losses, detect divergence."""
    spent, cfg = state.spent, run.config
    spent.flops += meter.iteration_flops
    spent.seconds += seconds
    spent.d_steps += cfg.n_critic
    spent.g_steps += 1
    spent.images_seen += cfg.batch_size * (2 * cfg.n_critic + 1)  # real + fake per critic step, fake per G step
    meter.seconds_per_iteration.append(seconds)
    bad = [("d_loss", v) for v in d_losses if not math.isfinite(v)] + [("g_loss", g_loss)] * (not math.isfinite(g_loss))
    if bad:
        state.diverged = {"g_step": spent.g_steps, "loss": bad[0][0], "value": str(bad[0][1])}
    if spent.g_steps % cfg.log_every == 0 or bad:
        state.losses["g_step"].append(spent.g_steps)
        state.losses["d_loss"].append(d_losses[-1] if math.isfinite(d_losses[-1]) else str(d_losses[-1]))
        state.losses["g_loss"].append(g_loss if math.isfinite(g_loss) else str(g_loss))


def take_due_snapshots(run: Run, run_dir: Path, state: TrainState, meter: BudgetMeter, final: bool) -> None:
    """Save the generator at every budget fraction reached (all remaining at the end)."""
    fractions = run.config.snapshot_fractions
    progress = meter.progress(state.spent)
    for fraction in fractions[len(state.snapshots):]:
        if not final and progress + 1e-12 < fraction:
            break
        rel = f"snapshots/g_{fraction:.2f}.pt"
        atomic_torch_save(run_dir / rel, {k: v.detach().cpu() for k, v in unwrap(run.generator).state_dict().items()})
        s = state.spent
        state.snapshots.append({
            "fraction": fraction, "progress": progress, "g_step": s.g_steps, "flops": s.flops,
            "seconds": s.seconds, "images_seen": s.images_seen, "path": rel, "metrics": {},
        })


def unwrap(module: nn.Module) -> nn.Module:
    """The original module behind torch.compile's wrapper."""
    return getattr(module, "_orig_mod", module)


def checkpoint(run: Run, run_dir: Path, state: TrainState, record: dict, meter: BudgetMeter, status="interrupted"):
    """Write the checkpoint, then the record describing it."""
    save_checkpoint(run_dir, {
        "config": run.config.to_dict(),
        "generator": unwrap(run.generator).state_dict(),
        "critic": unwrap(run.critic).state_dict(),
        "opt_g": run.opt_g.state_dict(),
        "opt_d": run.opt_d.state_dict(),
        "rng": rng_state(run.device),
        "state": state.to_dict(),
        "seconds_per_iteration": meter.seconds_per_iteration[-20:],
    })
    write_record(run_dir, finish_record(record, state, meter, status))


def restore(run: Run, run_dir: Path) -> tuple[TrainState, list[str]]:
    """Load the newest usable checkpoint into ``run``; a fresh state if none."""
    events: list[str] = []
    payload = load_checkpoint(run_dir, events)
    if payload is None:
        return TrainState(), events
    if payload["config"] != run.config.to_dict():
        raise GanbenchError(f"{run_dir} holds a run with a different config; use --force to restart it or another --out")
    run.generator.load_state_dict(payload["generator"])
    run.critic.load_state_dict(payload["critic"])
    run.opt_g.load_state_dict(payload["opt_g"])
    run.opt_d.load_state_dict(payload["opt_d"])
    set_rng_state(payload["rng"], run.device)
    state = TrainState.from_dict(payload["state"])
    events.append(f"resumed at generator step {state.spent.g_steps}")
    return state, events


def finished_record(run_dir: Path) -> Optional[dict]:
    """The record of a run that already ended, if there is one."""
    if not record_path(run_dir).exists():
        return None
    try:
        record = read_record(run_dir)
    except GanbenchError:
        return None  # unreadable: treat as not done; the checkpoint decides
    return record if record.get("status") in FINAL_STATUSES else None


def new_record(run: Run, step_flops: dict, events: list[str]) -> dict[str, Any]:
    cfg = run.config
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": f"{cfg.benchmark or 'train'}/{cfg.variant}/seed{cfg.seed}",
        "benchmark": cfg.benchmark, "variant": cfg.variant, "dataset": cfg.dataset, "seed": cfg.seed,
        "config": cfg.to_dict(),
        "budget": {"unit": cfg.budget.unit, "limit": cfg.budget.limit, "max_g_steps": cfg.budget.max_g_steps},
        "step_flops": step_flops,
        "iteration_flops": cfg.n_critic * step_flops["d_step"] + step_flops["g_step"],
        "device": device_info(cfg.device), "versions": package_versions(),
        "checkpoint": "checkpoint.pt", "samples": None, "metrics": {}, "resume_events": events,
    }


def finish_record(record: dict, state: TrainState, meter: BudgetMeter, status: str) -> dict:
    """Copy the training state into the record and set its status."""
    record.update(state.to_dict())
    record["status"] = status
    record["progress"] = meter.progress(state.spent)
    return record
