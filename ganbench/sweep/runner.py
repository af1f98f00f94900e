"""Running a sweep: ask trials, run them through an executor, tell their scores.

``run_tasks`` is any function from a list of suite tasks to their outcomes,
e.g. ``lambda tasks: run_local(tasks, workers)`` or ``run_ray``; the sweep
itself never trains anything. See :mod:`ganbench.sweep.study` for how trials
map to run directories and why a re-invocation redoes nothing.
"""

from __future__ import annotations

from typing import Callable, Optional

from ganbench.core.errors import GanbenchError

from .scoring import best_trial, load_trials
from .study import (
    RunTasks,
    SweepPlan,
    SweepSummary,
    VariantStudy,
    ask_new,
    open_variant_study,
    resumable,
    sweep_dir,
    tell,
    trial_task,
)

Progress = Callable[[str, int, object], None]
TOLD = ("finished", "diverged", "skipped")  # the run has a complete record to score


def run_sweep(plan: SweepPlan, run_tasks: RunTasks, progress: Optional[Progress] = None) -> SweepSummary:
    """Bring every variant of ``plan`` to ``n_trials`` complete trials (where runs allow).

    Unfinished trials from an earlier invocation are resumed first; runs that
    fail (an error, not a divergence) stay unfinished and are retried by the
    next invocation, and runs claimed by another process are left to it.
    Returns the outcomes of this invocation; ``progress(variant, trial, outcome)``
    is called as each arrives.
    """
    studies = [open_variant_study(plan, v) for v in plan.variants]
    attempted: dict[str, set[int]] = {vs.variant: set() for vs in studies}
    summary = SweepSummary()
    while True:
        jobs = {}
        for vs in studies:
            for number, params in _next_trials(vs, plan, attempted[vs.variant]):
                task = trial_task(vs, number, params)
                jobs[task.run_id] = (vs, number, task)
                attempted[vs.variant].add(number)
        if not jobs:
            return summary
        # Trial-major order: every variant makes progress, not one variant first.
        ordered = sorted(jobs.values(), key=lambda j: (j[1], j[0].variant))
        for outcome in run_tasks([task for _, _, task in ordered]):
            vs, number, task = jobs[outcome.run_id]
            if outcome.status in TOLD:
                tell(vs, number, task)
            summary.outcomes.append((vs.variant, number, outcome))
            if progress:
                progress(vs.variant, number, outcome)


def _next_trials(vs: VariantStudy, plan: SweepPlan, attempted: set[int]) -> list[tuple[int, dict]]:
    """Unfinished trials not yet tried in this invocation, then new ones up to ``n_trials``."""
    pending = resumable(vs, plan.sampler, plan.seed, plan.n_trials, skip=attempted)
    room = plan.n_trials - len(vs.study.get_trials(deepcopy=False))
    if plan.batch is not None:
        room = min(room, max(plan.batch - len(pending), 0))
    return pending + ask_new(vs, room, plan.sampler, plan.seed)


def rerun_dir(plan: SweepPlan, variant: str, trial: int, seed: int):
    """Re-runs of a best configuration: ``<variant>/best-trial<k>/seed<s>/`` (the trial in
    the name, so a later, better trial gets its own re-runs instead of clashing)."""
    return sweep_dir(plan.out, plan.bench.name) / variant / f"best-trial{trial}" / f"seed{seed}"


def rerun_best(plan: SweepPlan, seeds: int, run_tasks: RunTasks, progress: Optional[Progress] = None,
               notes: Optional[list[str]] = None) -> SweepSummary:
    """Re-run each variant's best trial configuration with seeds 0..seeds-1 as ordinary runs.

    Only variants whose sweep is complete (``n_trials`` complete trials) are
    re-run: an unfinished sweep may still change its best trial. ``notes``
    collects one line per variant that was left out, and why.
    """
    summary = SweepSummary()
    jobs = {}
    for variant in plan.variants:
        vs = open_variant_study(plan, variant)
        trials = load_trials(sweep_dir(plan.out, plan.bench.name) / variant, vs.goal)
        done = sum(t.complete for t in trials if t.number < plan.n_trials)
        if done < plan.n_trials:
            if notes is not None:
                notes.append(f"{variant}: not re-run, {done} of {plan.n_trials} trials complete")
            continue
        best = best_trial(trials, vs.goal)  # over every complete trial, as the report picks it
        params = {t.number: t.params for t in vs.study.get_trials(deepcopy=False)}.get(best.number)
        if params is None:
            raise GanbenchError(f"{variant}: trial {best.number} has a record but is not in the study")
        for seed in range(seeds):
            task = trial_task(vs, best.number, params, seed=seed, run_dir=rerun_dir(plan, variant, best.number, seed))
            jobs[task.run_id] = (variant, seed, task)
    for outcome in run_tasks([task for _, _, task in jobs.values()]) if jobs else ():
        variant, seed, _ = jobs[outcome.run_id]
        summary.outcomes.append((variant, seed, outcome))
        if progress:
            progress(variant, seed, outcome)
    return summary
