"""Helpers shared by the speed benchmarks in ``benchmarks/perf/``.

Everything here measures ganbench's real code paths (``ganbench.training.trainer.train``,
``build_run``, ``train_iteration``, ``measure_step_flops``); the only code of our
own is the bare reference loop in :func:`bare_loop` and the timing wrappers in
:class:`TrainTimer`, which wrap trainer functions from outside without
changing what they do.

The development machines have 2 shared CPU cores, so timings are noisy:
compare alternately (A, B, A, B ...) and report medians, and fix torch to one
thread unless threading is what is measured.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator, Optional

import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import DataSplit, load_dataset, to_model_space
from ganbench.models import build_models
from ganbench.training import trainer
from ganbench.training.budget import measure_step_flops
from ganbench.variants import make_variant

VARIANT_NAMES = ("vanilla", "vanilla-mm", "wgan-gp", "lsgan", "loss-sensitive")
DATASET_NAMES = ("ring8", "fashion-mnist")
HUGE_FLOPS = 1e30  # a FLOP limit no benchmark run reaches: max_g_steps ends these runs


def single_thread() -> None:
    """One torch thread: the policy of every measurement that is not about threading."""
    torch.set_num_threads(1)


def machine_line() -> str:
    """Threads and load average, printed above every table so noisy numbers are explained."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"torch {torch.__version__}, {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, load average {load}"


def run_config(variant: str, dataset: str, *, iterations: Optional[int] = None, flops: float = HUGE_FLOPS,
               **overrides) -> RunConfig:
    """An unresolved RunConfig with the benchmark defaults (seed 0, batch 64)."""
    return RunConfig(variant=variant, dataset=dataset, seed=0, budget=Budget("flops", flops, iterations), **overrides)


BENCHMARKS_DIR = Path(__file__).resolve().parents[1]  # benchmarks/: one TOML per benchmark
PROFILE_CHOICES = ("smoke", "quick", "full", "defaults")  # "defaults": plain RunConfig defaults


def profile_config(variant: str, dataset: str, profile: str, **overrides) -> RunConfig:
    """The seed-0 run of ``variant`` in ``benchmarks/<dataset>.toml``'s ``profile``, with its
    real budget (``profile="defaults"``: RunConfig defaults, unlimited FLOPs)."""
    if profile == "defaults":
        return run_config(variant, dataset, **overrides)
    from ganbench.config.benchmarks import load_benchmark

    configs = [c for c in load_benchmark(BENCHMARKS_DIR / f"{dataset}.toml").run_configs(profile) if c.variant == variant]
    if not configs:
        raise SystemExit(f"benchmarks/{dataset}.toml's profile {profile!r} has no {variant!r} run")
    return replace(configs[0], **overrides)


def capped(config: RunConfig, iterations: int) -> RunConfig:
    """The same run stopped after ``iterations`` generator steps (FLOP accounting still on)."""
    return replace(config, budget=Budget("flops", HUGE_FLOPS, iterations))


def resolved(config: RunConfig, data: DataSplit) -> RunConfig:
    """The config as the trainer sees it (variant defaults and data-kind defaults filled in)."""
    return resolve(config, data.info.kind)


def iteration_flops(config: RunConfig, data: DataSplit) -> tuple[int, dict[str, int]]:
    """FLOPs of one iteration (n_critic critic steps + one G step), from ganbench's counter."""
    config = resolved(config, data)
    run = trainer.build_run(config, data)
    steps = measure_step_flops(run.generator, run.critic, run.variant, run.real_batch, run.sample_z)
    return config.n_critic * steps["d_step"] + steps["g_step"], steps


def median(values) -> float:
    return statistics.median(values)


# --- the bare reference loop ------------------------------------------------------------


def now() -> tuple[float, float]:
    """(wall, CPU) clocks. Process CPU time does not run while other processes hold
    the shared cores, so single-thread comparisons on it are far less noisy; it
    does not count I/O waits (fsync), which wall time does."""
    return time.perf_counter(), time.process_time()


@dataclass
class BareResult:
    seconds: float  # wall time of the N iterations only
    cpu_seconds: float  # process CPU time of the same
    generator_state: dict


def bare_loop(config: RunConfig, data: DataSplit, iterations: int) -> BareResult:
    """The same math as ganbench's trainer in a plain PyTorch loop.

    Same seed, models (``build_models``), optimisers (the variant's), batch draw, n_critic,
    variant losses and random-number order, so after N iterations the
    generator must equal ganbench's bit for bit (checked by the caller). No
    budget, logging, snapshots, checkpoints or autocast context: what is left
    is the cost of the math itself.
    """
    cfg = resolved(config, data)
    torch.manual_seed(cfg.seed)
    variant = make_variant(cfg.variant, **cfg.variant_options)
    g, d = build_models(data.info, width=cfg.width, z_dim=cfg.z_dim, d_norm=cfg.d_norm)
    opt_g = variant.make_optimizer("generator", g.parameters(), lr=cfg.lr, betas=cfg.betas)
    opt_d = variant.make_optimizer("critic", d.parameters(), lr=cfg.lr, betas=cfg.betas)
    images, n, bs, z_dim = data.data, len(data), cfg.batch_size, cfg.z_dim
    is_images = images.dtype == torch.uint8

    def batch():
        b = images[torch.randint(n, (bs,))]
        return to_model_space(b) if is_images else b

    wall, cpu = now()
    for step in range(iterations):
        d.requires_grad_(True)
        for _ in range(variant.critic_steps(step, cfg.n_critic)):
            real = batch()
            with torch.no_grad():
                fake = g(torch.randn(bs, z_dim))
            opt_d.zero_grad(set_to_none=True)
            variant.before_d_step(d)
            variant.d_loss(d, real, fake).backward()
            opt_d.step()
            variant.after_d_step(d)
        d.requires_grad_(False)  # same as the trainer: no critic gradients in the G step
        opt_g.zero_grad(set_to_none=True)
        variant.g_loss(d, g(torch.randn(bs, z_dim))).backward()
        opt_g.step()
    end = now()
    return BareResult(end[0] - wall, end[1] - cpu, {k: v.detach().clone() for k, v in g.state_dict().items()})


# --- timing the real train() --------------------------------------------------------------


@dataclass
class TrainTiming:
    """Where the wall time of one ``train()`` call went."""

    total: float = 0.0
    first_iteration: Optional[tuple] = None  # now() at the start of iteration 1
    loop_end: Optional[tuple] = None  # now() when the while loop was left
    snapshot_seconds: list = field(default_factory=lambda: [0.0, 0.0])  # (wall, CPU) of in-loop snapshot writes
    checkpoint_seconds: list = field(default_factory=list)  # in-loop checkpoints (every 200 G steps)
    iterations: int = 0
    iteration_seconds: float = 0.0  # inside train_iteration (the math)
    per_iteration: list = field(default_factory=list)  # seconds of each train_iteration call
    starts: list = field(default_factory=list)  # perf_counter at the start of each iteration

    def loop_seconds(self, cpu: bool = False) -> float:
        """The training loop minus its one-off snapshot writes (10 per run, whatever its
        length): accounting, logging, progress, periodic checkpoints and the iterations."""
        i = int(cpu)
        return self.loop_end[i] - self.first_iteration[i] - self.snapshot_seconds[i]

    def steady_rate(self, skip: int) -> float:
        """Iterations per second after the first ``skip`` (compilation, autotuning), from
        iteration start times to leaving the loop; the trainer synchronises CUDA after
        every iteration, so this is device time too. Snapshot writes are not taken out."""
        return (self.iterations - skip) / (self.loop_end[0] - self.starts[skip])

    def machinery_fraction(self) -> float:
        """Share of the loop spent outside train_iteration (accounting, logging, checkpoints)."""
        return 1.0 - self.iteration_seconds / self.loop_seconds()

    def one_off_seconds(self) -> float:
        """Setup (data, models, FLOP counting, first record) + snapshots + final samples/checkpoint."""
        return self.total - self.loop_seconds()


class TrainTimer:
    """Wraps trainer functions (module attributes looked up at call time) with timers.

    The wrappers call the originals unchanged; they add a few clock reads
    (about a microsecond in all) per iteration.
    """

    def __init__(self):
        self.timing = TrainTiming()

    @contextmanager
    def installed(self) -> Iterator["TrainTimer"]:
        originals = {name: getattr(trainer, name) for name in ("train_iteration", "take_due_snapshots", "checkpoint")}
        t = self.timing
        iteration, snapshots, checkpoint = originals["train_iteration"], originals["take_due_snapshots"], originals["checkpoint"]

        def timed_iteration(run, n_critic=None):
            if t.first_iteration is None:
                t.first_iteration = now()
            t.iterations += 1
            start = time.perf_counter()
            t.starts.append(start)
            result = iteration(run, n_critic)
            t.per_iteration.append(time.perf_counter() - start)
            t.iteration_seconds += t.per_iteration[-1]
            return result

        def timed_snapshots(run, run_dir, state, meter, final):
            start, before = now(), len(state.snapshots)
            if final and t.loop_end is None:
                t.loop_end = start
            snapshots(run, run_dir, state, meter, final)
            if not final and len(state.snapshots) > before:
                end = now()
                t.snapshot_seconds = [t.snapshot_seconds[i] + end[i] - start[i] for i in (0, 1)]

        def timed_checkpoint(run, run_dir, state, record, meter, status="interrupted", **kwargs):
            start = now()
            if status != "interrupted" and t.loop_end is None:  # diverged runs take no final snapshots
                t.loop_end = start
            checkpoint(run, run_dir, state, record, meter, status=status, **kwargs)  # e.g. a group member's rng
            if status == "interrupted":
                t.checkpoint_seconds.append(time.perf_counter() - start[0])

        trainer.train_iteration, trainer.take_due_snapshots, trainer.checkpoint = (
            timed_iteration, timed_snapshots, timed_checkpoint)
        try:
            yield self
        finally:
            for name, fn in originals.items():
                setattr(trainer, name, fn)


def timed_train(config: RunConfig, root: Optional[Path] = None) -> tuple[dict, TrainTiming]:
    """Run ganbench's real ``train()`` into a fresh directory; return (record, timing)."""
    with tempfile.TemporaryDirectory(dir=root) as tmp:
        timer = TrainTimer()
        with timer.installed():
            start = time.perf_counter()
            record = trainer.train(config, Path(tmp) / "run")
            timer.timing.total = time.perf_counter() - start
        snapshot = torch.load(Path(tmp) / "run" / "snapshots" / "g_1.00.pt", weights_only=True) \
            if record["status"] == "finished" else None
    record["_final_generator"] = snapshot
    return record, timer.timing


def same_tensors(a: Optional[dict], b: Optional[dict]) -> bool:
    """Bit-for-bit equality of two state dicts."""
    return a is not None and b is not None and a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- hardware ----------------------------------------------------------------------------


def matmul_peak(sizes=(1024, 1536, 2048), repeats: int = 5, min_seconds: float = 0.2) -> tuple[float, dict[int, float]]:
    """Best fp32 dense matmul FLOP/s over ``sizes`` (best of ``repeats`` timings each,
    each timing at least ``min_seconds`` long), on the current thread count. Timed in
    process CPU time: with one thread it equals wall time on an idle core and does
    not count time other processes hold the core."""
    per_size = {}
    for n in sizes:
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        torch.mm(a, b, out=c)  # warm-up: MKL picks its kernel
        reps = max(1, int(min_seconds * 1e11 / (2 * n**3)))  # ~min_seconds at 100 GFLOP/s
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            for _ in range(reps):
                torch.mm(a, b, out=c)
            best = min(best, (time.process_time() - start) / reps)
        per_size[n] = 2 * n**3 / best
    return max(per_size.values()), per_size


# --- output ------------------------------------------------------------------------------


def print_table(rows: list[dict], title: str) -> None:
    """An aligned table (pandas ``to_string``) under a title line."""
    import pandas as pd

    print(f"\n{title}")
    print(pd.DataFrame(rows).to_string(index=False))


def load(dataset: str) -> DataSplit:
    """The training split, as the trainer loads it."""
    return load_dataset(dataset, "train")
