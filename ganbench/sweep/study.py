"""Optuna bookkeeping: one study per (benchmark, variant), trials run as ordinary runs.

Trial ``k`` of a variant is the run ``OUT/sweeps/<benchmark>/<variant>/trial<k>/``,
trained with seed ``TRIAL_SEED_OFFSET + k`` under the benchmark's budget for the
profile, through the same executors as ``ganbench run``. The mapping is fixed
by the trial number, so a sweep resumes after a kill without redoing work:

- a COMPLETE trial is never run again;
- a RUNNING trial (asked, then its run was killed or failed) is resumed with
  the parameters stored in the study, once its number is below N (``execute`` resumes its checkpoint, or
  skips it when its record is already complete), and told when it ends;
- new trials are asked only while the study holds fewer than N trials.

Each parameter of trial k is drawn by a sampler seeded from (seed, k, name), so
the same seed gives the same configurations whatever the order of asks, the
number of workers, or where a sweep was killed; and every variant of a sweep
shares its draws of lr, beta1, n_critic... (a paired comparison). With TPE,
draws also depend on the trials told before them.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from ganbench.config.benchmarks import DEFAULT_PROFILE, BenchmarkConfig, EvalSettings
from ganbench.config.run import RunConfig
from ganbench.config.search_space import Param, apply_params, distributions, space_for, variant_space
from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.core.io import atomic_write_json
from ganbench.core.mapping import json_ready
from ganbench.suite.tasks import Outcome, Task

from .scoring import MANIFEST, Goal, goal_for, read_manifest, read_trial

SAMPLERS = ("random", "tpe")
TRIAL_SEED_OFFSET = 1000  # trial seeds never collide with the seeds 0, 1, 2... of re-runs
MANIFEST_VERSION = 1
RunTasks = Callable[[list[Task]], Iterator[Outcome]]


@dataclass(frozen=True)
class SweepPlan:
    """What to sweep. ``batch``: new trials asked per round and variant (TPE
    learns between rounds); None asks every missing trial at once (random)."""

    bench: BenchmarkConfig
    variants: tuple[str, ...]
    n_trials: int
    profile: str = DEFAULT_PROFILE
    space: str = "wide"
    sampler: str = "random"
    seed: int = 0
    out: Path = Path("results")
    storage: Optional[str] = None
    device: str = "cpu"
    batch: Optional[int] = None

    def __post_init__(self):
        if self.n_trials < 1:
            raise ConfigError(f"--trials must be at least 1, got {self.n_trials}")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"unknown sampler {self.sampler!r}; use one of {', '.join(SAMPLERS)}")
        unknown = sorted(set(self.variants) - set(self.bench.variant_names()))
        if unknown or not self.variants:
            raise ConfigError(f"benchmark {self.bench.name!r} has no variant(s) {unknown or '(none given)'}; "
                              f"it compares {', '.join(self.bench.variant_names())}")


def sweep_dir(out: Path, benchmark: str) -> Path:
    return Path(out) / "sweeps" / benchmark


def trial_dir(out: Path, benchmark: str, variant: str, number: int) -> Path:
    return sweep_dir(out, benchmark) / variant / f"trial{number}"


def trial_seed(number: int) -> int:
    """Training seed of trial ``number``."""
    return TRIAL_SEED_OFFSET + number


@dataclass
class VariantStudy:
    """One variant's study with what its trials need: space, goal, template config."""

    variant: str
    study: Any  # optuna.Study
    space: dict[str, Param]
    goal: Goal
    template: RunConfig
    eval: EvalSettings
    out: Path


@dataclass
class SweepSummary:
    """Outcomes of one invocation, as (variant, trial number or rerun seed, outcome)."""

    outcomes: list[tuple[str, int, Outcome]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _, _, o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return dict(sorted(counts.items()))

    def failed(self) -> list[tuple[str, int, Outcome]]:
        return [x for x in self.outcomes if x[2].status == "failed"]


def default_storage(out: Path, benchmark: str) -> str:
    """Embedded SQLite next to the trials: ``OUT/sweeps/<benchmark>/study.db``."""
    path = sweep_dir(out, benchmark) / "study.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path.resolve()}"


def param_seed(seed: int, number: int, name: str) -> int:
    """The seed of one parameter draw: a function of (sweep seed, trial number, name) only."""
    return int(np.random.SeedSequence([seed, number, zlib.crc32(name.encode())]).generate_state(1)[0])


def make_sampler(kind: str, seed: int):
    import optuna

    return optuna.samplers.RandomSampler(seed=seed) if kind == "random" else optuna.samplers.TPESampler(seed=seed)


def settings_of(plan: SweepPlan, vs_space: dict[str, Param], goal: Goal, template: RunConfig) -> dict[str, Any]:
    """What a variant's sweep was started with; a re-invocation must match it."""
    return json_ready({
        "manifest_version": MANIFEST_VERSION, "benchmark": plan.bench.name, "dataset": plan.bench.dataset,
        "variant": template.variant, "profile": plan.profile, "budget": str(template.budget),
        "space": plan.space, "params": {n: p.to_dict() for n, p in vs_space.items()},
        "sampler": plan.sampler, "seed": plan.seed, "metric": goal.metric,
        "higher_is_better": goal.higher_is_better, "failure": goal.failure,
        "trial_seed_offset": TRIAL_SEED_OFFSET,
    })


def _check_settings(existing: Optional[dict], wanted: dict, where: str) -> None:
    if existing is None or existing == wanted:
        return
    diff = sorted(k for k in set(existing) | set(wanted) if existing.get(k) != wanted.get(k))
    detail = "; ".join(f"{k}: was {existing.get(k)!r}, now {wanted.get(k)!r}" for k in diff)
    raise ConfigError(f"{where} belongs to a sweep with other settings ({detail}); rerun with the same settings "
                      "to resume or extend it, or pass another --out")


def open_variant_study(plan: SweepPlan, variant: str) -> VariantStudy:
    """Create or load the variant's study; check it matches ``plan`` and record its settings."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    template = next(c for c in plan.bench.run_configs(plan.profile, plan.device) if c.variant == variant)
    space = variant_space(space_for(plan.bench, plan.space), variant)
    goal = goal_for(plan.bench.primary_metric)
    settings = settings_of(plan, space, goal, template)
    variant_dir = sweep_dir(plan.out, plan.bench.name) / variant
    _check_settings(read_manifest(variant_dir), settings, str(variant_dir / MANIFEST))
    storage = plan.storage or default_storage(plan.out, plan.bench.name)
    study = optuna.create_study(study_name=f"{plan.bench.name}/{variant}", storage=storage,
                                direction=goal.direction, load_if_exists=True,
                                sampler=make_sampler(plan.sampler, plan.seed))
    _check_settings(study.user_attrs.get("settings"), settings, f"study {study.study_name!r} in {storage}")
    study.set_user_attr("settings", settings)
    atomic_write_json(variant_dir / MANIFEST, settings)
    return VariantStudy(variant, study, space, goal, template, plan.bench.profile(plan.profile).eval, plan.out)


def suggest_all(vs: VariantStudy, trial, kind: str, seed: int) -> dict[str, Any]:
    """Draw (or read back) every parameter of ``trial``, each from its own seeded sampler."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    for name, dist in distributions(vs.space).items():
        vs.study.sampler = make_sampler(kind, param_seed(seed, trial.number, name))
        if isinstance(dist, CategoricalDistribution):
            trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, IntDistribution):
            trial.suggest_int(name, dist.low, dist.high, log=dist.log)
        else:
            trial.suggest_float(name, dist.low, dist.high, log=dist.log)
    return dict(trial.params)


def resumable(vs: VariantStudy, kind: str, seed: int, limit: int, skip=()) -> list[tuple[int, dict]]:
    """RUNNING trials numbered below ``limit`` (asked before, run unfinished) with their
    parameters, completed if a kill interrupted their drawing. A sweep of N trials is
    trials 0..N-1: those asked by an earlier, larger --trials wait for one again."""
    import optuna

    out = []
    for frozen in vs.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if frozen.number in skip or frozen.number >= limit:
            continue
        params = dict(frozen.params)
        if set(params) != set(vs.space):
            # Re-attach to the stored trial; drawn parameters are kept, missing ones drawn.
            params = suggest_all(vs, optuna.trial.Trial(vs.study, frozen._trial_id), kind, seed)
        out.append((frozen.number, params))
    return out


def ask_new(vs: VariantStudy, count: int, kind: str, seed: int) -> list[tuple[int, dict]]:
    """Ask ``count`` new trials, numbered on from the study's last (the caller keeps
    the study at ``n_trials``)."""
    out = []
    for _ in range(max(count, 0)):
        trial = vs.study.ask()
        out.append((trial.number, suggest_all(vs, trial, kind, seed)))
    return out


def trial_task(vs: VariantStudy, number: int, params: dict, seed: Optional[int] = None,
               run_dir: Optional[Path] = None) -> Task:
    """The ordinary run of a trial (or of a re-run of its configuration with ``seed``)."""
    base = dataclasses.replace(vs.template, seed=trial_seed(number) if seed is None else seed)
    directory = run_dir or trial_dir(vs.out, vs.template.benchmark, vs.variant, number)
    return Task(apply_params(base, params), str(directory), vs.eval)


def check_matches(record_config: dict, config: RunConfig, run_dir: str) -> None:
    """Refuse to score a trial with a record trained under other hyperparameters
    (e.g. trial directories left from a deleted study)."""
    fields = ("seed", "lr", "betas", "n_critic", "d_norm")
    want = json_ready({k: getattr(config, k) for k in fields if getattr(config, k) is not None})
    got = {k: record_config.get(k) for k in want}
    options = record_config.get("variant_options") or {}
    if got != want or any(options.get(k) != v for k, v in config.variant_options.items()):
        raise GanbenchError(f"{run_dir} holds a run with other hyperparameters than its trial ({got} vs {want}); "
                            "delete the directory or pass another --out")


def tell(vs: VariantStudy, number: int, task: Task) -> bool:
    """Tell the study a trial's score from its record; False while the run is incomplete."""
    result = read_trial(Path(task.run_dir), number, vs.goal)
    if not result.complete:
        return False
    check_matches(result.config, task.config, task.run_dir)
    vs.study.tell(number, result.score, skip_if_finished=True)  # another process may have told it
    return True
