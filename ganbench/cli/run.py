"""``ganbench run``: train and score benchmarks through an executor."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from ganbench.config.benchmarks import DEFAULT_PROFILE, PROFILES


@click.command("run")
@click.argument("names", nargs=-1)
@click.option("--all", "run_all", is_flag=True, help="Run every benchmark in --benchmarks-dir.")
@click.option("--profile", type=click.Choice(PROFILES), default=DEFAULT_PROFILE, show_default=True,
              help="Benchmark size: smoke (CI, minutes), quick (2-core CPU, about 65 min for --all), full (paper scale, GPU).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("results"), show_default=True,
              help="Results directory: runs go to OUT/runs/<benchmark>/<variant>/seed<k>/.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Parallel runs (default: one per core, or per GPU).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local process pool, or Ray (pip install 'ganbench[ray]') for clusters.")
@click.option("--address", default=None, help="Ray cluster address (default: start or join a local one).")
@click.option("--checkpoint-dir", default=None,
              help="Ray: where checkpoints go so a run lost with its node resumes (shared path, or a URL with "
                   "'ganbench[fsspec]'). Without it a lost run restarts from scratch.")
@click.option("--tensorboard", "tensorboard_dir", type=click.Path(path_type=Path), default=None,
              help="Log losses and snapshot metrics per run to this TensorBoard directory (pip install 'ganbench[tensorboard]').")
@click.option("--progress-interval", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds between progress lines when the output is not a terminal (CI logs).")
@click.option("--variant", "variants", multiple=True, help="Only these variants (repeatable).")
@click.option("--seeds", callback=lambda ctx, param, value: parse_seeds(value), default=None,
              metavar="LIST", help="Run these seeds instead of the profile's, e.g. 10-19 or 0,3,5-7: "
              "a changed-seed check of the conclusions (`ganbench compare`); use another --out.")
@click.option("--group-seeds", type=click.Choice(["auto", "on", "off"]), default="auto", show_default=True,
              help="Train a benchmark entry's seeds together in one process (stacked weights, vmap): auto where "
                   "measured faster (CPU: the 2-D MLPs up to 128 units wide; GPU: every supported run) and a group "
                   "holds at most one worker's share of the runs; on wherever supported; off never. Records are "
                   "the same format, plus 'ensemble'.")
@click.option("--force", is_flag=True, help="Redo runs even if their records are complete.")
@click.option("--report/--no-report", default=True, show_default=True, help="Rebuild tables and figures afterwards.")
@click.option("--benchmarks-dir", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True)
def run_command(names, run_all, profile, out, workers, device, executor, address, checkpoint_dir, tensorboard_dir,
                progress_interval, variants, seeds, group_seeds, force, report, benchmarks_dir) -> None:
    """Train and score benchmarks NAMES (or --all) under equal compute budgets.

    Finished runs are skipped; an interrupted suite resumes where it stopped;
    a diverged run is recorded and the suite goes on. Exits 1 when a run failed
    for another reason than divergence.
    """
    from ganbench.config.benchmarks import discover
    from ganbench.core.errors import ConfigError
    from ganbench.suite.executors import default_workers, run_local, run_ray
    from ganbench.suite.grouping import group_tasks
    from ganbench.suite.live import TensorBoardLog
    from ganbench.suite.tasks import check_plan, plan

    if not names and not run_all:
        raise ConfigError("name benchmarks to run, or pass --all (see `ganbench list`)")
    if checkpoint_dir and executor != "ray":
        raise ConfigError("--checkpoint-dir is for --executor ray; the local executor checkpoints into OUT/runs")
    live = TensorBoardLog(tensorboard_dir) if tensorboard_dir else None
    benchmarks = discover(benchmarks_dir, () if run_all else tuple(names))
    if seeds:
        benchmarks = [bench.with_seeds(profile, seeds) for bench in benchmarks]
    tasks = plan(benchmarks, profile, out, device=device, force=force, variants=tuple(variants))
    if not tasks:  # e.g. a mistyped --variant: say so rather than "0 runs", exit 0
        raise ConfigError(f"no runs selected: profile {profile!r} of {', '.join(b.name for b in benchmarks)}, "
                          f"variants {', '.join(variants) or 'all'}; see `ganbench list` for the names")
    check_plan(tasks, profile)  # a mistyped budget fails now, not after an hour
    for bench in benchmarks:
        if profile not in bench.profiles:
            click.echo(f"skipping {bench.name}: no {profile!r} profile (it defines {', '.join(sorted(bench.profiles))})")
    click.echo(f"{len(tasks)} runs ({len(benchmarks)} benchmarks, profile {profile}) -> {out}/runs")
    from ganbench.evaluation.realdata import declare, ensure_real_data

    expected = planned_runs(tasks)
    declare(benchmarks, profile, out, expected)  # the run list, so a report made mid-suite names what is missing
    by_name = {bench.name: bench for bench in benchmarks}

    def benchmark_done(name: str) -> None:  # in this driver process: workers never load the report stack
        ensure_real_data([by_name[name]], profile, out, expected=expected)
        if report:
            _interim_report(out, name)

    results = _watched(tasks, progress_interval, live, lambda on_progress: (
        run_ray(tasks, address, checkpoint_dir=checkpoint_dir, on_progress=on_progress, group_seeds=group_seeds)
        if executor == "ray" else run_local(group_tasks(tasks, group_seeds, workers or default_workers(device)),
                                           workers, on_progress=on_progress)), benchmark_done)
    counts = Counter(o.status for o in results)
    click.echo("summary: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    failed = sorted((o for o in results if o.status in ("failed",)), key=lambda o: o.run_id)
    for o in failed:
        click.echo(f"FAILED {o.run_id}: {o.error}", err=True)
    for o in sorted((o for o in results if o.status == "claimed"), key=lambda o: o.run_id):
        click.echo(f"not run {o.run_id}: {o.error}", err=True)
    ensure_real_data(benchmarks, profile, out, expected=expected)  # the floor/ceiling row of every table
    if report and not failed:
        from ganbench.report import write_report

        written = write_report(out)
        click.echo(f"report: {len(written)} files under {out}")
    sys.exit(1 if failed else 0)


def parse_seeds(text: str | None) -> tuple[int, ...]:
    """``"10-19"`` or ``"0,3,5-7"`` -> seeds, in order, each once; None -> ()."""
    if text is None:
        return ()
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            span = range(int(first), int(last or first) + 1)
        except ValueError:
            raise click.BadParameter(f"{part.strip()!r} is not a seed or a range; write e.g. 10-19 "
                                     "or 0,3,5-7", param_hint="'--seeds'") from None
        if not span:
            raise click.BadParameter(f"range {part.strip()!r} is empty; write low-high",
                                     param_hint="'--seeds'")
        seeds += [s for s in span if s not in seeds]
    return tuple(seeds)


def planned_runs(tasks) -> dict[str, list[str]]:
    """Benchmark -> the run ids the suite plans for it."""
    planned: dict[str, list[str]] = {}
    for task in tasks:
        planned.setdefault(task.config.benchmark, []).append(task.run_id)
    return planned


def _interim_report(out: Path, benchmark: str) -> None:
    """Rewrite the report after ``benchmark``'s last run; a failure here is told, and
    the suite goes on (the report is rewritten at the end)."""
    import time

    from ganbench.report import write_report

    start = time.perf_counter()
    try:
        written = write_report(out)
    except Exception as exc:  # noqa: BLE001 (a report problem must not stop the training)
        click.echo(f"report after {benchmark}: not written ({type(exc).__name__}: {exc})", err=True)
        return
    click.echo(f"{benchmark} done: report rewritten, {len(written)} files under {out} "
               f"({time.perf_counter() - start:.1f} s)")


def _watched(tasks, interval, live, start, benchmark_done=None) -> list:
    """Run the suite (``start(on_progress)`` yields outcomes) under the progress display and the
    live view; ``benchmark_done(name)`` is called when the last planned run of a benchmark ends."""
    from ganbench.suite.progress import SuiteProgress

    results, run_dirs = [], {t.run_id: t.run_dir for t in tasks}
    remaining = Counter(t.config.benchmark for t in tasks)
    with SuiteProgress(tasks, interval=interval) as progress:
        def on_progress(msg):
            progress.update(msg)
            if live is not None:
                live.update(msg)

        for outcome in start(on_progress):
            results.append(outcome)
            progress.finish(outcome)
            if live is not None:
                live.finish(outcome, run_dirs[outcome.run_id])
            name = outcome.run_id.split("/", 1)[0]
            remaining[name] -= 1
            if remaining[name] == 0 and benchmark_done is not None:
                benchmark_done(name)
    if live is not None:
        live.close()
    return results
