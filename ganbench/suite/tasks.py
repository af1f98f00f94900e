"""The suite: benchmarks x variants x seeds, each run trained then scored.

A task is self-contained (a config, a directory, evaluation settings), so any
executor can run it: :mod:`ganbench.suite.executors` holds the local process pool
and Ray. Finished runs are skipped, interrupted ones resume, and a per-run
claim (a lease, :mod:`ganbench.suite.leases`) keeps two suite processes on one
results directory from doing the same run twice.
"""

from __future__ import annotations

import dataclasses
import json
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from ganbench.config.benchmarks import BenchmarkConfig, EvalSettings
from ganbench.config.run import RunConfig
from ganbench.core.errors import GanbenchError
from ganbench.core.record import FINAL_STATUSES, read_record, record_path, write_record
from ganbench.suite.leases import CLAIM, _proc_stat, claim, release  # noqa: F401 (re-exported: claims were born here)


@dataclass(frozen=True)
class Task:
    """One run of the suite: train ``config`` into ``run_dir`` and score it."""

    config: RunConfig
    run_dir: str
    eval: EvalSettings
    force: bool = False
    #: A seed group (ganbench.suite.grouping): the runs trained together, this task being
    #: the first of them; empty for a run trained alone.
    members: tuple["Task", ...] = ()

    @property
    def run_id(self) -> str:
        return self.config.run_id


@dataclass(frozen=True)
class Outcome:
    """What happened to a task: ``finished``, ``diverged``, ``skipped``, ``claimed`` or ``failed``."""

    run_id: str
    status: str
    seconds: float = 0.0
    error: Optional[str] = None


def run_dir_for(out: Path, config: RunConfig) -> Path:
    return Path(out) / "runs" / str(config.benchmark) / config.label / f"seed{config.seed}"


def plan(benchmarks: Iterable[BenchmarkConfig], profile: str, out: Path, device: str = "cpu",
         force: bool = False, variants: tuple[str, ...] = ()) -> list[Task]:
    """All tasks of a profile, in a fixed order (benchmark, variant, seed)."""
    tasks = []
    for bench in benchmarks:
        if profile not in bench.profiles:
            continue  # e.g. cifar10 defines only the GPU-sized `full` profile
        eval_settings = bench.profile(profile).eval
        for config in bench.run_configs(profile, device):
            if not variants or config.label in variants:
                tasks.append(Task(config, str(run_dir_for(out, config)), eval_settings, force))
    return tasks


def check_plan(tasks: list[Task], profile: str) -> None:
    """Check every task before any run starts, so a mistyped benchmark file fails in
    seconds with the benchmark and profile named, not mid-suite: the budget pays for
    an iteration (:func:`ganbench.training.budget.check_budget`) and ``eval.n_real`` fits the
    test split.

    Costs are measured (models built, nothing trained) once per distinct model:
    runs that differ only in seed, budget or snapshots share one measurement. A
    dataset that cannot be loaded is left to its runs, which fail with the
    loader's message.
    """
    import torch

    from ganbench.core.errors import ConfigError, DatasetError
    from ganbench.datasets import load_dataset
    from ganbench.training.budget import check_budget

    meters: dict = {}
    checked = set()
    with torch.random.fork_rng(devices=[]):
        for task in tasks:
            cfg = task.config
            model = dataclasses.replace(cfg, seed=0, benchmark=None, device="cpu", snapshot_fractions=(1.0,))
            key = json.dumps(model.to_dict(), sort_keys=True, default=str)
            if (key, cfg.budget, cfg.snapshot_fractions, cfg.benchmark, task.eval) in checked:
                continue
            checked.add((key, cfg.budget, cfg.snapshot_fractions, cfg.benchmark, task.eval))
            if key not in meters:
                try:  # the test split: smaller than train, same shapes, so the same FLOPs
                    data = load_dataset(cfg.dataset, "test", cfg.data_dir)
                except DatasetError:
                    meters[key] = None
                    continue
                meters[key] = (measured_meter(model, data), len(data) if data.info.kind == "images" else None)
            if meters[key] is None:
                continue
            meter, n_test = meters[key]
            where = f"benchmark {cfg.benchmark!r}, profile {profile!r}, variant {cfg.variant!r}"
            check_budget(dataclasses.replace(meter, budget=cfg.budget), cfg.snapshot_fractions, where)
            if n_test is not None and task.eval.n_real is not None and task.eval.n_real > n_test:  # images only
                raise ConfigError(f"{where}: eval.n_real = {task.eval.n_real} but the {cfg.dataset} test split has "
                                  f"{n_test} samples; use at most {n_test}, or leave n_real out for all of them")


def measured_meter(config: RunConfig, data):
    """The trainer's meter for ``config``, measured on the ``meta`` device: FLOP counts
    depend only on shapes, and shape-only tensors make measuring ~4x faster than on
    the CPU (same counts for every variant, tests/test_bad_input.py). A variant
    whose steps need real values falls back to the CPU."""
    from ganbench.training.trainer import metered_run

    try:
        return metered_run(dataclasses.replace(config, device="meta"), data)[2]
    except (NotImplementedError, RuntimeError):
        return metered_run(config, data)[2]


def is_complete(task: Task) -> bool:
    """True when the run ended and every snapshot that should be scored is."""
    if task.force or not record_path(task.run_dir).exists():
        return False
    try:
        record = read_record(Path(task.run_dir))
    except GanbenchError:
        return False
    if record.get("status") not in FINAL_STATUSES:
        return False
    wanted = record["snapshots"] if task.eval.snapshots == "all" else record["snapshots"][-1:]
    return record["status"] == "diverged" and not record["snapshots"] or all(s["metrics"] for s in wanted)


def execute(task: Task, *, callback: Optional[Callable[[dict], None]] = None, notes: tuple[str, ...] = ()) -> Outcome:
    """Train and score one task; never raises (errors become ``failed``).

    ``callback`` is the trainer's per-iteration progress callback; ``notes``
    are appended to the record's ``resume_events`` (e.g. why a run restarted).
    """
    start = time.perf_counter()
    run_dir = Path(task.run_dir)
    if not task.force and is_complete(task):
        return Outcome(task.run_id, "skipped")
    if not claim(run_dir):
        return Outcome(task.run_id, "claimed", error="another ganbench process is running it")
    try:
        from ganbench.training.trainer import train

        record = with_notes(run_dir, train(task.config, run_dir, force=task.force, callback=callback), notes)
        return score(task, record, start)
    except Exception as exc:  # the suite goes on; the summary says what failed and why
        return failed(task, exc, start)
    finally:
        release(run_dir)


def with_notes(run_dir: Path, record: dict, notes: tuple[str, ...]) -> dict:
    """``record`` with ``notes`` appended to its ``resume_events`` (written back when there are any)."""
    if notes:
        record["resume_events"] = list(record["resume_events"]) + list(notes)
        write_record(run_dir, record)
    return record


def execute_group(group: Task, callbacks: Optional[dict] = None, notes: Optional[dict] = None) -> list[Outcome]:
    """Train ``group``'s members together (training/group.py), then score each; never raises.
    Complete members are skipped and members another process holds are left to it.
    ``callbacks`` and ``notes`` (as :func:`execute` takes them) are by member run id."""
    start, outcomes, todo = time.perf_counter(), [], []
    for task in group.members:
        if not task.force and is_complete(task):
            outcomes.append(Outcome(task.run_id, "skipped"))
        elif not claim(Path(task.run_dir)):
            outcomes.append(Outcome(task.run_id, "claimed", error="another ganbench process is running it"))
        else:
            todo.append(task)
    try:
        from ganbench.training.trainer import train_seeds

        records = train_seeds([t.config for t in todo], [Path(t.run_dir) for t in todo], force=group.force,
                              callbacks=[(callbacks or {}).get(t.run_id) for t in todo], group=True)
        records = [with_notes(Path(t.run_dir), r, (notes or {}).get(t.run_id, ())) for t, r in zip(todo, records)]
        return outcomes + [score(task, record, start) for task, record in zip(todo, records)]
    except Exception as exc:  # training failed for the whole group: each member says why
        return outcomes + [failed(task, exc, start) for task in todo]
    finally:
        for task in todo:
            release(Path(task.run_dir))


def score(task: Task, record: dict, start: float) -> Outcome:
    """Score a trained run's snapshots as ``task.eval`` says; its outcome (``failed`` on an error)."""
    try:
        from ganbench.evaluation.evaluate import evaluate_run

        if record["snapshots"]:
            e = task.eval
            record = evaluate_run(Path(task.run_dir), n_samples=e.n_samples, n_real=e.n_real, extractor=e.extractor,
                                  snapshots=e.snapshots)
        return Outcome(task.run_id, record["status"], time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 (one run's scoring failure is its own)
        return failed(task, exc, start)


def failed(task: Task, exc: Exception, start: float) -> Outcome:
    """A ``failed`` outcome naming the error (a GanbenchError's message, else the traceback's end)."""
    detail = str(exc) if isinstance(exc, GanbenchError) else "".join(traceback.format_exception(exc)[-3:])
    return Outcome(task.run_id, "failed", time.perf_counter() - start, f"{type(exc).__name__}: {detail}".strip())
