"""Sweep report: a pure function of the trial records under ``results/sweeps/``.

For each swept benchmark, ``results/sweeps/<benchmark>/`` gets ``README.md``,
``sweep.png`` (the primary metric of every trial per variant, and the
expected-best-of-k budget curve of all variants), ``trials.csv``,
``budget_curve.csv`` and ``best.csv`` (each variant's best configuration and
its re-runs over seeds). Same records in, same bytes out. Needs no Optuna:
the settings of each variant's sweep are read from its ``sweep.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ganbench.config.search_space import params_of
from ganbench.core.io import atomic_write_bytes
from ganbench.report.stats import t_interval

from .budget_curve import bootstrap_band, expected_best_of_k
from .figure import sweep_figure
from .render import param_names, readme
from .scoring import MANIFEST, Goal, TrialResult, best_trial, load_trials, read_manifest, read_trial

CSV_FLOAT = "%.10g"


@dataclass
class VariantSweep:
    """One variant's sweep as read from disk."""

    variant: str
    settings: dict
    goal: Goal
    trials: list[TrialResult]
    best: TrialResult | None
    reruns: list[TrialResult]

    @property
    def done(self) -> list[TrialResult]:
        return [t for t in self.trials if t.complete]

    def params(self, trial: TrialResult) -> dict:
        return params_of(trial.config, self.settings.get("params", {}))


def load_sweep(bench_dir: Path) -> list[VariantSweep]:
    """Every variant under ``results/sweeps/<benchmark>/`` with a ``sweep.json``, by name."""
    sweeps = []
    for manifest in sorted(Path(bench_dir).glob(f"*/{MANIFEST}")):
        settings = read_manifest(manifest.parent)
        if not settings:
            continue
        goal = Goal(settings["metric"], settings["higher_is_better"], float(settings["failure"]))
        trials = load_trials(manifest.parent, goal)
        best = best_trial(trials, goal)
        reruns = []
        if best is not None:
            rerun_root = manifest.parent / f"best-trial{best.number}"
            for path in sorted(rerun_root.glob("seed*")):
                if path.name[4:].isdigit():
                    reruns.append(read_trial(path, int(path.name[4:]), goal))
        sweeps.append(VariantSweep(manifest.parent.name, settings, goal, trials, best,
                                   sorted(reruns, key=lambda t: t.number)))
    return [s for s in sweeps if s.trials]


def trials_frame(sweeps: list[VariantSweep]) -> pd.DataFrame:
    """One row per trial: variant, trial, seed, status, score, the drawn parameters."""
    rows = [{"variant": s.variant, "trial": t.number, "seed": t.seed, "status": t.status,
             "score": t.score, **s.params(t)} for s in sweeps for t in s.trials]
    columns = ["variant", "trial", "seed", "status", "score"] + param_names(sweeps)
    return pd.DataFrame(rows, columns=columns).sort_values(["variant", "trial"], kind="stable").reset_index(drop=True)


def curve_frame(sweeps: list[VariantSweep]) -> pd.DataFrame:
    """The budget curve per variant: k, exact E[best of k], 95 % bootstrap band."""
    rows = []
    for s in sweeps:
        scores = [t.score for t in s.done]
        if not scores:
            continue
        mean = expected_best_of_k(scores, s.goal.higher_is_better)
        low, high = bootstrap_band(scores, s.goal.higher_is_better)
        rows += [{"variant": s.variant, "k": k + 1, "expected_best": mean[k], "band_low": low[k],
                  "band_high": high[k]} for k in range(len(scores))]
    return pd.DataFrame(rows, columns=["variant", "k", "expected_best", "band_low", "band_high"])


def best_frame(sweeps: list[VariantSweep]) -> pd.DataFrame:
    """Each variant's best trial, its parameters, and its re-runs over seeds."""
    rows = []
    for s in sweeps:
        if s.best is None:
            continue
        finished = [t.score for t in s.reruns if t.status == "finished"]
        mean, half, n = t_interval(finished)
        rows.append({"variant": s.variant, "trial": s.best.number, "score": s.best.score, **s.params(s.best),
                     "rerun_seeds": len(s.reruns), "rerun_finished": n,
                     "rerun_diverged": sum(t.status == "diverged" for t in s.reruns),
                     "rerun_mean": mean, "rerun_half_width": half})
    columns = (["variant", "trial", "score"] + param_names(sweeps)
               + ["rerun_seeds", "rerun_finished", "rerun_diverged", "rerun_mean", "rerun_half_width"])
    return pd.DataFrame(rows, columns=columns)


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False, float_format=CSV_FLOAT, lineterminator="\n").encode()


def write_sweep_report(results_dir, out_dir=None) -> list[Path]:
    """Write the report of every sweep under ``results_dir/sweeps/``; return the files.

    Writes into ``out_dir`` (default ``results_dir``) ``sweeps/<benchmark>/``:
    README.md, sweep.png, trials.csv, budget_curve.csv, best.csv. Returns []
    when there are no sweep records, so ``ganbench report`` can always call it.
    """
    root = Path(results_dir) / "sweeps"
    out_root = Path(results_dir if out_dir is None else out_dir) / "sweeps"
    written = []
    for bench_dir in sorted(p for p in root.glob("*") if p.is_dir()):
        sweeps = load_sweep(bench_dir)
        if not sweeps:
            continue
        out = out_root / bench_dir.name
        trials, curves, best = trials_frame(sweeps), curve_frame(sweeps), best_frame(sweeps)
        files = {"trials.csv": _csv(trials), "budget_curve.csv": _csv(curves), "best.csv": _csv(best),
                 "sweep.png": sweep_figure(bench_dir.name, sweeps, curves),
                 "README.md": readme(bench_dir.name, sweeps, curves, best).encode()}
        for name, data in files.items():
            atomic_write_bytes(out / name, data)
            written.append(out / name)
    return sorted(written)

