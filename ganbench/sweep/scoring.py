"""How a sweep scores and ranks its trials; shared by the study and the report.

Metric directions come from :mod:`ganbench.metrics.naming` (their one home).
This module adds what a sweep needs beyond a direction: the score of a trial
whose run diverged, and reading trial records back from disk.

A diverged trial is a trial that spent its budget and produced nothing usable,
so it must count in the budget curve as the worst outcome, not be dropped
(dropping it would flatter the variants that diverge most). For metrics with a
natural floor (counts and fractions) that floor is its score; for unbounded
ones (FID, KL) it is -inf / +inf, and the expected best of k is then undefined
while k is at most the number of diverged trials.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.core.record import FINAL_STATUSES, RECORD_NAME
from ganbench.metrics import LOWER_IS_BETTER, METRIC_RANGES

MANIFEST = "sweep.json"
TRIAL_DIR = re.compile(r"^trial(\d+)$")

# The worst value of metrics bounded on their bad side: what a generator that
# produces no usable sample scores (no mode covered, no sample of quality...;
# the Inception score is bounded below by 1). From the metrics' declared ranges.
FAILURE_FLOOR = {k: low for k, (low, _) in METRIC_RANGES.items()
                 if not LOWER_IS_BETTER[k] and math.isfinite(low)}


@dataclass(frozen=True)
class Goal:
    """What a sweep optimises: a metric key, its direction, the score of a diverged trial."""

    metric: str
    higher_is_better: bool
    failure: float

    @property
    def direction(self) -> str:
        """Optuna's name for the direction."""
        return "maximize" if self.higher_is_better else "minimize"

    def goodness(self, value: float) -> float:
        """``value`` on a higher-is-better scale (for sorting and the budget curve)."""
        return value if self.higher_is_better else -value


def metric_title(goal: Goal) -> str:
    """``Modes ↑``: the goal metric's report label and direction."""
    from ganbench.metrics.naming import arrow, metric_label

    return f"{metric_label(goal.metric)} {arrow(goal.metric)}".rstrip()


def goal_for(metric: str) -> Goal:
    """The goal for a benchmark's ``primary_metric``; an unknown direction is an error."""
    from ganbench.metrics.naming import higher_is_better, split_key

    better = higher_is_better(metric)
    if better is None:
        raise ConfigError(f"primary_metric {metric!r} has no known direction (see ganbench/report/naming.py); "
                          "a sweep cannot tell a better trial from a worse one")
    floor = FAILURE_FLOOR.get(split_key(metric)[0]) if better else None
    return Goal(metric, better, floor if floor is not None else (-math.inf if better else math.inf))


@dataclass(frozen=True)
class TrialResult:
    """One trial as read from its record: ``status`` is finished, diverged or incomplete."""

    number: int
    run_dir: str
    seed: Optional[int]
    status: str
    score: float  # NaN while incomplete; the failure value when diverged
    metrics: dict[str, float] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.status in FINAL_STATUSES


def score_record(record: dict[str, Any], goal: Goal) -> tuple[str, float]:
    """(status, score) of a run record: finished with a finite metric, diverged, or incomplete."""
    status = record.get("status")
    metrics = record.get("metrics") or {}
    if status == "finished" and not metrics and record.get("snapshots"):
        return "incomplete", math.nan  # trained, not scored yet
    if status == "finished":
        if goal.metric not in metrics:
            raise GanbenchError(f"{record.get('run_id')}: record has no metric {goal.metric!r}; it has "
                                f"{', '.join(sorted(metrics)) or 'none'}")
        value = metrics[goal.metric]
        if isinstance(value, (int, float)) and math.isfinite(value):
            return "finished", float(value)
        return "diverged", goal.failure
    if status == "diverged":
        return "diverged", goal.failure
    return "incomplete", math.nan


def read_trial(run_dir: Path, number: int, goal: Goal) -> TrialResult:
    """A trial from its run directory; a missing or unreadable record is incomplete."""
    try:
        record = json.loads((Path(run_dir) / RECORD_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return TrialResult(number, str(run_dir), None, "incomplete", math.nan)
    status, score = score_record(record, goal)
    metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items() if isinstance(v, (int, float))}
    return TrialResult(number, str(run_dir), record.get("seed"), status, score, metrics, record.get("config") or {})


def load_trials(variant_dir: Path, goal: Goal) -> list[TrialResult]:
    """Every ``trial<k>/`` under a variant's sweep directory, by trial number."""
    found = []
    for path in Path(variant_dir).glob("trial*"):
        match = TRIAL_DIR.match(path.name)
        if match and path.is_dir():
            found.append(read_trial(path, int(match.group(1)), goal))
    return sorted(found, key=lambda t: t.number)


def rank_key(trial: TrialResult, goal: Goal) -> tuple:
    """Sort key, best first: the goal metric, then the report's tie-breakers for it
    (e.g. reverse KL when modes tie), then the lower trial number."""
    from ganbench.metrics.naming import higher_is_better, primary_metrics

    ranked = primary_metrics(set(trial.metrics) | {goal.metric})
    tiebreaks = ranked[1:] if ranked[:1] == [goal.metric] else []
    key = [-goal.goodness(trial.score)]
    for metric in tiebreaks:
        value = trial.metrics.get(metric, math.nan)
        key.append(math.inf if not math.isfinite(value) else (-value if higher_is_better(metric) else value))
    return (*key, trial.number)


def best_trial(trials: list[TrialResult], goal: Goal) -> Optional[TrialResult]:
    """The best complete trial (ties broken as in :func:`rank_key`), or None."""
    done = [t for t in trials if t.complete]
    return min(done, key=lambda t: rank_key(t, goal)) if done else None


def read_manifest(variant_dir: Path) -> Optional[dict[str, Any]]:
    """A variant sweep's settings (``sweep.json``), or None when absent or unreadable."""
    try:
        return json.loads((Path(variant_dir) / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError):
        return None
