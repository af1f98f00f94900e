"""``ganbench sweep``: hyperparameter search under the benchmark's budget (Lucic et al. 2018)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ganbench.config.benchmarks import DEFAULT_PROFILE, PROFILES


def _executor(executor: str, workers, address):
    """The suite executor as a function of a task list."""
    from ganbench.suite.executors import run_local, run_ray

    if executor == "ray":
        return lambda tasks: run_ray(tasks, address)
    return lambda tasks: run_local(tasks, workers)


def _bar(total: int, initial: int, desc: str):
    """A progress bar and its callback; ``initial`` counts runs already complete on
    disk, so their "skipped" outcomes do not advance the bar again."""
    from tqdm import tqdm

    bar = tqdm(total=total, initial=initial, unit="run", desc=desc, dynamic_ncols=True)

    def progress(variant, number, outcome):
        bar.set_postfix_str(f"{variant} #{number}: {outcome.status}", refresh=False)
        if outcome.status != "skipped" or not initial:
            bar.update()

    return bar, progress


def _summarise(summary, label: str) -> list:
    counts = summary.counts()
    click.echo(f"{label}: " + (", ".join(f"{n} {s}" for s, n in counts.items()) or "nothing to run"))
    failed = summary.failed()
    for variant, number, o in failed:
        click.echo(f"FAILED {variant} {label} {number}: {o.error}", err=True)
    for variant, number, o in summary.outcomes:
        if o.status == "claimed":
            click.echo(f"not run {variant} {label} {number}: {o.error}", err=True)
    return failed


@click.command("sweep")
@click.argument("benchmark")
@click.option("--variant", "variants", multiple=True, help="Variants to tune (repeatable; default: all of the benchmark's).")
@click.option("--trials", "n_trials", type=int, required=True, help="Trials (configurations) per variant.")
@click.option("--profile", type=click.Choice(PROFILES), default=DEFAULT_PROFILE, show_default=True,
              help="Whose budget each trial gets.")
@click.option("--space", default="wide", show_default=True,
              help="Search space declared in the benchmark's [search_space.<name>]: wide or narrow.")
@click.option("--sampler", type=click.Choice(["random", "tpe"]), default="random", show_default=True,
              help="random: the protocol of Lucic et al.; tpe: Optuna's TPE, learning between rounds.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampler seed: same seed, same configurations.")
@click.option("--storage", default=None, help="Optuna storage URL (default: sqlite in OUT/sweeps/<benchmark>/study.db).")
@click.option("--rerun-best", "rerun_seeds", type=click.IntRange(min=0), default=0, show_default=True, metavar="SEEDS",
              help="Re-run each variant's best configuration with seeds 0..SEEDS-1.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Results directory: trials go to OUT/sweeps/<benchmark>/<variant>/trial<k>/.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel runs (default: one per core, or per GPU).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", default=None, help="Ray cluster address (default: start or join a local one).")
@click.option("--report/--no-report", default=True, show_default=True, help="Rebuild the sweep report afterwards.")
@click.option("--benchmarks-dir", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
def sweep_command(benchmark, variants, n_trials, profile, space, sampler, seed, storage, rerun_seeds, out, workers,
                  device, executor, address, report, benchmarks_dir) -> None:
    """Tune each variant of BENCHMARK: N trials, each an ordinary run under the same budget.

    Interrupted sweeps resume (same command); finished trials are never redone,
    and a larger --trials extends a sweep. Exits 1 when a run failed for another
    reason than divergence (rerun to retry it).
    """
    from ganbench.config.benchmarks import discover
    from ganbench.suite.executors import default_workers
    from ganbench.suite.tasks import check_plan
    from ganbench.suite.tasks import plan as suite_plan
    from ganbench.sweep import SweepPlan, rerun_best, run_sweep, write_sweep_report
    from ganbench.sweep.scoring import goal_for, load_trials
    from ganbench.sweep.study import sweep_dir

    (bench,) = discover(benchmarks_dir, (benchmark,))
    bench.profile(profile)  # a profile the benchmark lacks fails before the study opens
    workers = workers or default_workers(device)
    # Trials change hyperparameters, not the budget: the benchmark's own runs must fit it.
    check_plan(suite_plan([bench], profile, out, device=device, variants=tuple(variants)), profile)
    plan = SweepPlan(bench, tuple(variants) or tuple(bench.variant_names()), n_trials, profile, space, sampler,
                     seed, out, storage, device, batch=workers if sampler == "tpe" else None)
    goal = goal_for(bench.primary_metric)
    done = sum(t.complete and t.number < n_trials for v in plan.variants
               for t in load_trials(sweep_dir(out, bench.name) / v, goal))  # earlier invocations' work
    click.echo(f"sweep {bench.name}: {len(plan.variants)} variants x {n_trials} trials ({space} space, {sampler} "
               f"sampler, seed {seed}, {profile} budget) -> {sweep_dir(out, bench.name)}")
    run_tasks = _executor(executor, workers, address)
    bar, progress = _bar(len(plan.variants) * n_trials, done, "sweep")
    with bar:
        summary = run_sweep(plan, run_tasks, progress)
    failed = _summarise(summary, "trial")
    if rerun_seeds > 0:
        notes: list[str] = []
        bar, progress = _bar(len(plan.variants) * rerun_seeds, 0, "re-runs")
        with bar:
            reruns = rerun_best(plan, rerun_seeds, run_tasks, progress, notes)
        for note in notes:
            click.echo(note)
        failed += _summarise(reruns, "seed")
    if report:
        written = write_sweep_report(out)
        click.echo(f"report: {len(written)} files under {sweep_dir(out, bench.name)}")
    sys.exit(1 if failed else 0)

