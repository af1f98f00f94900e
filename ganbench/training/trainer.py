"""The budgeted trainer: the only training loop in ganbench.

Every variant trains through :func:`train`. The loop reads top to bottom:
build the run, restore a checkpoint if one exists, count what an iteration
costs, then iterate (n_critic critic steps + one generator step) while the
next iteration fits the budget, taking generator snapshots at fixed fractions
of the budget and checkpoints every few steps. Divergence ends the run as
``diverged``; Ctrl-C ends it as ``interrupted`` with a checkpoint to resume from.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import torch
from torch import nn
from tqdm import tqdm

from ganbench.config.run import RunConfig, resolve
from ganbench.core.record import finished_record, write_record
from ganbench.datasets import DataSplit, load_dataset
from ganbench.models import build_models
from ganbench.training import ema, packs, samples, update
from ganbench.training.bookkeeping import (  # noqa: F401 (tests patch them here, where the loop looks them up)
    TrainState,
    account,
    checkpoint,
    restore,
    snapshot_due,
    take_due_snapshots,
    unwrap,
)
from ganbench.training.budget import BudgetMeter, check_budget, warn_repeated_snapshots
from ganbench.training.checkpoint import group_resume_step, rng_state
from ganbench.training.device import compile_models, torch_device  # noqa: F401 (compile_models: re-exported)
from ganbench.training.group import check_groupable, regroup, sync
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


@dataclass
class Member:
    """One run as the training loop holds it, alone or in a seed group."""

    run: Run
    run_dir: Path
    meter: BudgetMeter
    state: TrainState
    record: dict
    health: HealthMonitor
    predicted: bool  # check_budget could tell in advance that the snapshots are distinct
    rng: dict = field(default_factory=dict)  # its random state while a group holds it (training/streams.py)


def start(config: RunConfig, data: DataSplit, run_dir: Path, at_step: Optional[int] = None) -> Member:
    """Build the run, check its budget, restore its checkpoint (at ``at_step``, if given), write its
    first record."""
    run, step_flops, meter = metered_run(config, data)
    config = run.config
    predicted = check_budget(meter, config.snapshot_fractions, config.run_id)  # before any record is written
    health = HealthMonitor(run.generator, data, config)  # before restore: it probes the initial generator
    state, events = restore(run, run_dir, at_step)
    if config.compile:
        compile_models(run)
    record = new_record(run, step_flops, events)
    write_record(run_dir, finish_record(record, state, meter, "interrupted"))
    return Member(run, run_dir, meter, state, record, health, predicted, rng_state(run.device))


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
    return train_seeds([config], [run_dir], force=force, progress=progress, callbacks=[callback])[0]


def train_seeds(configs: list[RunConfig], run_dirs: list[Path], *, force: bool = False, progress: bool = False,
                callbacks: Optional[list] = None, group: bool = False) -> list[dict[str, Any]]:
    """Train runs (as :func:`train` does each) and return their records, in order.

    With ``group`` the runs must differ only by seed; those left to train at the same
    step train together as one :class:`ganbench.training.group.SeedGroup`, and each
    record gains ``ensemble: {size, index, seeds}``. Without it they train one by one.
    """
    run_dirs = [Path(d) for d in run_dirs]
    callbacks = callbacks or [None] * len(configs)
    if group:
        check_groupable(list(configs))
    records: dict[int, dict] = {}
    pending = []
    for i, run_dir in enumerate(run_dirs):
        if force and run_dir.exists():
            shutil.rmtree(run_dir)
        if done := finished_record(run_dir):
            records[i] = done
        else:
            pending.append(i)
    data = load_dataset(configs[0].dataset, "train", configs[0].data_dir) if pending else None
    parts: dict = {i: [i] for i in pending}
    if group:  # members resume together where they can (checkpoint.group_resume_step), else apart
        at = group_resume_step([run_dirs[i] for i in pending], configs[0].checkpoint_every)
        members, parts = {i: start(configs[i], data, run_dirs[i], at) for i in pending}, {}
        for i in pending:
            parts.setdefault(members[i].state.spent.g_steps, []).append(i)
    for part in parts.values():
        chosen = [members[i] if group else start(configs[i], data, run_dirs[i]) for i in part]
        for index, m in enumerate(chosen if group and len(part) > 1 else []):
            m.record["ensemble"] = {"size": len(part), "index": index, "seeds": [configs[j].seed for j in part]}
        records.update(zip(part, train_members(chosen, [callbacks[i] for i in part], progress)))
    return [records[i] for i in range(len(configs))]


def train_members(members: list[Member], callbacks: list, progress: bool) -> list[dict[str, Any]]:
    """The training loop: iterate while the budget lasts, taking snapshots and checkpoints.
    One member trains alone on torch's global random stream; several as a SeedGroup."""
    active = [m for m in members if m.state.diverged is None]  # a checkpoint may hold a divergence already
    ended = [m for m in members if m.state.diverged is not None]
    # A group keeps its size to the end: a member that diverges stays in the stack, ignored, so the
    # others go on bit-identical to a group without the fault (vmap's kernels depend on the size).
    group, stacked = regroup(active, len(members) > 1), list(active)
    callback_of = {id(m): callback for m, callback in zip(members, callbacks)}
    desc = members[0].record["run_id"] + (f" (+{len(members) - 1} seeds)" if len(members) > 1 else "")
    bar = tqdm(total=100, unit="%", desc=desc, disable=not progress, leave=False)
    try:
        while active and active[0].meter.next_fits(active[0].state.spent):
            start_time, lead = clock(), active[0]
            n_critic = lead.meter.critic_steps(lead.state.spent.g_steps)
            if group is None:
                results = [train_iteration(lead.run, n_critic)]
                ema.update(lead.run, lead.state.spent.g_steps)
            else:
                results = group.iteration(n_critic)
                group.update_ema(lead.state.spent.g_steps)
            if lead.run.device.type == "cuda":
                torch.cuda.synchronize(lead.run.device)
            seconds = (clock() - start_time) / len(active)  # a member's share of the iteration
            for m, (d_losses, g_loss) in [(m, r) for m, r in zip(stacked, results) if m.state.diverged is None]:
                account(m.state, m.meter, m.run, seconds, d_losses, g_loss)
                m.health.observe(m.state, d_losses, m.run.g_grad_square)
            checkpointed = lead.state.spent.g_steps % lead.run.config.checkpoint_every == 0
            diverged = [m for m in active if m.state.diverged]
            if group is not None and (checkpointed or diverged or snapshot_due(lead.run, lead.state, lead.meter)):
                sync(group, stacked)
            for m in active:  # every member's files first: a stop below leaves them at one step
                take_due_snapshots(m.run, m.run_dir, m.state, m.meter, final=False)
                if checkpointed:
                    checkpoint(m.run, m.run_dir, m.state, m.record, m.meter, rng=m.rng if group is not None else None)
            for m in active:
                if (callback := callback_of[id(m)]) is not None:
                    callback({"g_step": m.state.spent.g_steps, "flops": m.state.spent.flops, "losses": m.state.losses,
                              "progress": m.meter.progress(m.state.spent), "checkpointed": checkpointed})
                pause_point(m.record["run_id"], m.state.spent.g_steps)
            bar.update(round(100 * lead.meter.progress(lead.state.spent)) - bar.n)
            for m in diverged:
                finish(m, group)
            active = [m for m in active if not m.state.diverged]
    except KeyboardInterrupt:
        sync(group, stacked)
        for m in active:
            checkpoint(m.run, m.run_dir, m.state, m.record, m.meter, rng=m.rng if group is not None else None)
        raise
    finally:
        bar.close()
    sync(group, stacked)
    for m in active + ended:
        finish(m, group)
    return [m.record for m in members]


def finish(m: Member, group) -> None:
    """End a member: final snapshots and samples unless it diverged, then its last checkpoint."""
    run, state, record = m.run, m.state, m.record
    if state.diverged is None:
        take_due_snapshots(run, m.run_dir, state, m.meter, final=True)
        record["samples"] = samples.write_final_samples(ema.scored_generator(run), run.data.info, m.run_dir,
                                                        run.config)
        m.health.finish(state)
    if not m.predicted:  # e.g. seconds: the check before training could not tell in advance
        warn_repeated_snapshots(state.snapshots, record["run_id"])
    status = "diverged" if state.diverged else "finished"
    checkpoint(run, m.run_dir, state, record, m.meter, status=status, rng=m.rng if group is not None else None)
