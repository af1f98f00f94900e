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
from typing import Any, Callable, Optional

import torch
from torch import nn
from tqdm import tqdm

from ganbench.config.run import RunConfig, resolve
from ganbench.core.errors import GanbenchError
from ganbench.core.io import atomic_torch_save
from ganbench.core.record import finished_record, write_record
from ganbench.datasets import DataSplit, load_dataset
from ganbench.models import build_models
from ganbench.training import ema, packs, samples, update
from ganbench.training.budget import BudgetMeter, Spent, check_budget, warn_repeated_snapshots
from ganbench.training.checkpoint import load_checkpoint, rng_state, save_checkpoint, set_rng_state
from ganbench.training.device import torch_device
from ganbench.training.health import HealthMonitor, grad_square_norm
from ganbench.training.memory import check_memory
from ganbench.training.pause import pause_point
from ganbench.training.run_record import finish_record, new_record
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
    fixed_packs: Optional[packs.FixedPacks] = None  # PacGAN's fixed packs (real_packs = "fixed"); None: fresh batches
    g_grad_square: float = 0.0  # the last generator step's squared gradient norm (health.py)
    g_ema: Optional[ema.GeneratorEma] = None  # the generator's weight average, scored in its place (ema.py)

    def real_batch(self) -> torch.Tensor:
        """The next real batch: ``batch_size`` packs of ``pack`` samples (PacGAN: a batch of 100 is 100 packs)."""
        return packs.real_batch(self)

    def fake_batch(self) -> torch.Tensor:
        """The generator's batch, packed as the real one."""
        return packs.fake_batch(self)

    def sample_z(self) -> torch.Tensor:
        return torch.randn(self.config.batch_size * self.config.pack, self.config.z_dim, device=self.device)


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


def build_run(config: RunConfig, data: DataSplit) -> Run:
    """Seed, build models and optimisers exactly as the (resolved) config says."""
    torch.manual_seed(config.seed)
    device = torch_device(config.device)
    variant = make_variant(config.variant, **config.variant_options)
    generator, critic = build_models(data.info, width=config.width, z_dim=config.z_dim, d_norm=config.d_norm,
                                     config=config)
    generator, critic = generator.to(device), critic.to(device)
    if config.channels_last:
        generator, critic = generator.to(memory_format=torch.channels_last), critic.to(memory_format=torch.channels_last)
    opt_g = variant.make_optimizer("generator", generator.parameters(), lr=config.lr_g or config.lr,
                                   betas=config.betas_g or config.betas)
    opt_d = variant.make_optimizer("critic", critic.parameters(), lr=config.lr_d or config.lr,
                                   betas=config.betas_d or config.betas)
    return Run(config, data, variant, generator, critic, opt_g, opt_d, device,
               fixed_packs=packs.make_packs(config, len(data)), g_ema=ema.make_ema(config, generator))


def metered_run(config: RunConfig, data: DataSplit) -> tuple[Run, dict, BudgetMeter]:
    """Resolve and build the run, count its step FLOPs, and the meter that charges them.

    The trainer and the suite's up-front budget check (:func:`ganbench.suite.tasks.check_plan`)
    both come here, so they agree on what an iteration costs.
    """
    cfg = resolve(config, data.info.kind)
    if cfg.device != "meta":  # a model too large fails here, named, not in the allocator
        check_memory(cfg, data.info)
    run = build_run(cfg, data)
    step_flops = update.measure_flops(run)
    meter = BudgetMeter(cfg.budget, step_flops, update.critic_schedule(run), steps_per_epoch=len(data) / cfg.batch_size)
    return run, step_flops, meter


def train_iteration(run: Run, n_critic: Optional[int] = None) -> tuple[list[float], float]:
    """``n_critic`` critic steps (default: the config's) then one generator step; returns their losses.
    With ``update = "simultaneous"`` one step of both networks from one batch (training/update.py)."""
    autocast = torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=run.config.autocast_bf16)
    if run.config.update == "simultaneous":
        return update.simultaneous_iteration(run, autocast)
    d_losses = []
    run.critic.requires_grad_(True)
    for _ in range(run.config.n_critic if n_critic is None else n_critic):
        real = run.real_batch()
        with torch.no_grad(), autocast:
            fake = run.fake_batch()
        run.opt_d.zero_grad(set_to_none=True)
        run.variant.before_d_step(run.critic)
        with autocast:
            d_loss = run.variant.d_loss(run.critic, real, fake)
        d_loss.backward()
        run.opt_d.step()
        run.variant.after_d_step(run.critic)
        d_losses.append(d_loss.detach())
    run.critic.requires_grad_(False)  # the generator step needs no critic gradients
    run.opt_g.zero_grad(set_to_none=True)
    with autocast:
        g_loss = run.variant.g_step_loss(run.critic, run.fake_batch(), run.real_batch)
    g_loss.backward()
    g_grad = grad_square_norm(run.generator)  # queued before the step, which reads the gradients
    run.opt_g.step()
    values = torch.stack([v.float() for v in d_losses + [g_loss.detach(), g_grad]]).tolist()  # one device sync
    run.g_grad_square = values.pop()
    return values[:-1], values[-1]


def train(config: RunConfig, run_dir: Path, *, force: bool = False, progress: bool = False,
          callback: Optional[Callable[[dict], None]] = None) -> dict[str, Any]:
    """Train one run into ``run_dir`` and return its record.

    A finished (or diverged) run is returned as is unless ``force``; an
    interrupted one resumes from its checkpoint and, on CPU with a FLOP budget,
    ends with the same record as an uninterrupted run. ``callback``, if given,
    is called after every iteration with ``g_step``, ``flops``, ``progress``
    (fraction of the budget), ``losses`` (the record's loss trace so far, not
    to be modified) and ``checkpointed`` (a checkpoint was just written).
    """
    run_dir = Path(run_dir)
    if force and run_dir.exists():
        shutil.rmtree(run_dir)
    if done := finished_record(run_dir):
        return done
    data = load_dataset(config.dataset, "train", config.data_dir)
    run, step_flops, meter = metered_run(config, data)
    config = run.config
    predicted = check_budget(meter, config.snapshot_fractions, config.run_id)  # before any record is written
    health = HealthMonitor(run.generator, data, config)  # before restore: it probes the initial generator
    state, events = restore(run, run_dir)
    if config.compile:
        compile_models(run)
    record = new_record(run, step_flops, events)
    write_record(run_dir, finish_record(record, state, meter, "interrupted"))
    bar = tqdm(total=100, unit="%", desc=record["run_id"], disable=not progress, leave=False)
    try:
        while state.diverged is None and meter.next_fits(state.spent):
            start = clock()
            d_losses, g_loss = train_iteration(run, meter.critic_steps(state.spent.g_steps))
            ema.update(run, state.spent.g_steps)
            if run.device.type == "cuda":
                torch.cuda.synchronize(run.device)
            account(state, meter, run, clock() - start, d_losses, g_loss)
            health.observe(state, d_losses, run.g_grad_square)
            take_due_snapshots(run, run_dir, state, meter, final=False)
            bar.update(round(100 * meter.progress(state.spent)) - bar.n)
            checkpointed = state.spent.g_steps % config.checkpoint_every == 0
            if checkpointed:
                checkpoint(run, run_dir, state, record, meter)
            if callback is not None:
                callback({"g_step": state.spent.g_steps, "flops": state.spent.flops, "losses": state.losses,
                          "progress": meter.progress(state.spent), "checkpointed": checkpointed})
            pause_point(record["run_id"], state.spent.g_steps)
    except KeyboardInterrupt:
        checkpoint(run, run_dir, state, record, meter)
        raise
    finally:
        bar.close()
    if state.diverged is None:
        take_due_snapshots(run, run_dir, state, meter, final=True)
        record["samples"] = samples.write_final_samples(ema.scored_generator(run), run.data.info, run_dir, config)
        health.finish(state)
    if not predicted:  # e.g. seconds: the check above could not tell in advance
        warn_repeated_snapshots(state.snapshots, record["run_id"])
    status = "diverged" if state.diverged else "finished"
    checkpoint(run, run_dir, state, record, meter, status=status)
    return record


def compile_models(run: Run) -> None:
    """``torch.compile`` the generator and (unless differentiated twice) the critic."""
    # A critic differentiated twice (WGAN-GP's penalty) stays eager: AOTAutograd
    # "does not currently support double backward".
    run.generator = torch.compile(run.generator)
    if not run.variant.double_backward:
        run.critic = torch.compile(run.critic)


def account(state: TrainState, meter: BudgetMeter, run: Run, seconds: float, d_losses, g_loss) -> None:
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


def take_due_snapshots(run: Run, run_dir: Path, state: TrainState, meter: BudgetMeter, final: bool) -> None:
    """Save the generator (its EMA when on) at every budget fraction reached (all remaining at the end)."""
    fractions = run.config.snapshot_fractions
    progress = meter.progress(state.spent)
    for fraction in fractions[len(state.snapshots):]:
        if not final and progress + 1e-12 < fraction:
            break
        rel = f"snapshots/g_{fraction:.2f}.pt"
        weights = unwrap(ema.scored_generator(run)).state_dict()
        atomic_torch_save(run_dir / rel, {k: v.detach().cpu() for k, v in weights.items()})
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
        "seconds_per_iteration": meter.seconds_per_iteration[-20:], **ema.state(run),
    })
    write_record(run_dir, finish_record(record, state, meter, status))


def restore(run: Run, run_dir: Path) -> tuple[TrainState, list[str]]:
    """Load the newest usable checkpoint into ``run``; a fresh state if none."""
    events: list[str] = []
    payload = load_checkpoint(run_dir, events)
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
