"""CI regression on stability: rerun a fixed-seed suite, compare with a committed baseline.

``regress`` trains every run of the stability suite (``benchmarks/stability/``,
profile ``smoke``: FLOP budgets and fixed seeds) into a scratch directory and
checks each benchmark x variant against ``results/baseline/<benchmark>/<variant>.json``.

The rule (also printed under every table, see :data:`RULE`):

- ``diverged``: FAIL when more seeds diverge (or fail) than in the baseline.
- metrics (modes, classes_covered, high_quality: higher is better; reverse_kl,
  class_kl, fid/*, kid/*: lower is better): the mean over finished seeds now is
  compared with the baseline mean; FAIL when it is worse by more than
  ``tol = max(K * s, ABS_FLOOR[metric], REL_FLOOR * |baseline mean|)``, with
  ``s`` the baseline's sample standard deviation over seeds.

Why means with a tolerance and not per-seed equality: on the machine and
library versions that made the baseline, a FLOP-budgeted run is bit-identical,
so any tolerance passes an unchanged tree. On another CPU or torch build the
float rounding differs, and GAN training amplifies that within a few hundred
steps: each seed becomes a fresh draw from the same distribution. Then only the
distribution over seeds is comparable, and a mean of n=3 fresh seeds differs
from the baseline mean with standard deviation ``s * sqrt(2/3) ~ 0.82 s``:
``K = 3`` puts the threshold at ~3.7 of those, so an innocent environment
change almost never fails. ``s`` from 3 seeds is itself noisy (it is below
half the true spread 22 % of the time), hence the floors: one mode / class of
the mean, 2 points of high-quality percentage, 0.1 nats of reverse KL, 10 % of
the baseline value. Per-seed equality is still reported, as information.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import statistics
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional

from ganbench.config.benchmarks import BenchmarkConfig, discover
from ganbench.core.errors import GanbenchError
from ganbench.core.record import FINAL_STATUSES, read_record
from ganbench.metrics.naming import higher_is_better, sort_metrics, split_key
from ganbench.regress import BASELINE_DIR, SUITE_DIR
from ganbench.regress.baseline import (
    SCHEMA,
    bad_seeds,
    environment_matches,
    identical_seeds,
    read_baseline,
    seed_values,
    write_baseline,
)
from ganbench.suite.tasks import Outcome, Task, check_plan, execute, plan

PROFILE = "smoke"
K = 3.0
REL_FLOOR = 0.10
ABS_FLOOR = {"modes": 1.0, "classes_covered": 1.0, "high_quality": 2.0, "reverse_kl": 0.1,
             "class_kl": 0.05, "fid": 2.0, "kid": 0.005}
RULE = (f"rule: 'diverged' FAILS when more seeds diverge or fail than in the baseline; a metric FAILS when the "
        f"mean over finished seeds is worse than the baseline mean by more than "
        f"tol = max({K:g} x baseline std over seeds, absolute floor, {REL_FLOOR:.0%} of the baseline mean). "
        f"Checked: {', '.join(ABS_FLOOR)} (floors {', '.join(f'{k} {v:g}' for k, v in ABS_FLOOR.items())}).")


@dataclass(frozen=True)
class Check:
    """One row of the table / one JUnit testcase."""

    benchmark: str
    variant: str
    metric: str
    baseline: str
    now: str
    tolerance: str
    verdict: str  # PASS, FAIL or NEW (no baseline yet: passes, says so)
    detail: str = ""


@dataclass
class Result:
    """What ``regress`` found: every check, the runs, and how long it took."""

    checks: list[Check]
    entries: dict[tuple[str, str], dict]
    seconds: float
    identical: tuple[int, int]  # (seeds bit-identical to the baseline, seeds compared)
    same_environment: bool
    retried: list[str] = dataclasses.field(default_factory=list)  # reruns after a worker crash

    @property
    def passed(self) -> bool:
        return all(c.verdict != "FAIL" for c in self.checks)


def regress(suite_dir: Path = SUITE_DIR, baseline_dir: Path = BASELINE_DIR, out: Optional[Path] = None, *,
            workers: Optional[int] = None, benchmarks: tuple[str, ...] = (), variants: tuple[str, ...] = (),
            update_reason: Optional[str] = None, command: str = "",
            on_outcome: Callable[[Outcome], None] = lambda o: None) -> Result:
    """Run the stability suite into ``out`` (a temp dir if None) and compare it with the baseline.

    ``benchmarks`` / ``variants`` select part of the suite (and of the baseline).
    ``workers``: None = one per core; 0 = in this process, so variants
    registered at run time (e.g. by tests) are the ones trained. With
    ``update_reason`` the baseline is rewritten from this run after comparing
    (refused if a run failed; a full update also drops entries that no longer run).
    """
    if not Path(suite_dir).is_dir():
        raise GanbenchError(f"stability suite {suite_dir} does not exist; pass --suite DIR of benchmark TOML files")
    suites = discover(Path(suite_dir), benchmarks)
    names = {b.name for b in suites}
    baseline = {k: e for k, e in read_baseline(baseline_dir).items()
                if (k[0] in names or not benchmarks) and (not variants or k[1] in variants)}
    if update_reason is None:
        check_suite_unchanged(suite_dir, suites, baseline, baseline_dir)
    with tempfile.TemporaryDirectory(prefix="ganbench-regress-") as scratch:
        tasks = plan(suites, PROFILE, Path(out) if out is not None else Path(scratch), variants=variants)
        if not tasks:
            raise GanbenchError(f"no stability runs selected from {suite_dir} (profile {PROFILE!r} of "
                                f"{', '.join(sorted(names)) or 'no benchmark'}; variants {', '.join(variants) or 'all'})")
        check_plan(tasks, PROFILE)
        start = time.perf_counter()
        outcomes = {o.run_id: o for o in _notify(run_tasks(tasks, workers), on_outcome)}
        # A pool whose worker was killed from outside fails every pending run with it;
        # rerun those once (records resume exactly), so only a crash that repeats counts.
        crashed = [t for t in tasks if (getattr(outcomes.get(t.run_id), "error", None) or "").startswith("worker crashed")]
        outcomes.update({o.run_id: o for o in _notify(run_tasks(crashed, workers), on_outcome)} if crashed else {})
        seconds = time.perf_counter() - start
        entries = summarise(suite_dir, suites, tasks, outcomes)
    compared = [key for key in entries if key in baseline]
    same_env = bool(compared) and all(environment_matches(baseline[k]["made"]) for k in compared)
    result = Result(compare(baseline, entries), entries, seconds, identical_seeds(baseline, entries), same_env,
                    sorted(t.run_id for t in crashed))
    if update_reason is not None:
        write_baseline(baseline_dir, entries, baseline, update_reason, command, seconds,
                       prune=not benchmarks and not variants)
    return result


def _notify(outcomes: Iterable[Outcome], callback) -> Iterable[Outcome]:
    for outcome in outcomes:
        callback(outcome)
        yield outcome


def run_tasks(tasks: list[Task], workers: Optional[int]) -> Iterable[Outcome]:
    """The local process pool, or (``workers == 0``) this process, one torch
    thread either way so both give the same records."""
    if workers != 0:
        from ganbench.suite.executors import run_local

        yield from run_local(tasks, workers)
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for task in tasks:
            yield execute(task)
    finally:
        torch.set_num_threads(threads)


def summarise(suite_dir: Path, suites: list[BenchmarkConfig], tasks: list[Task], outcomes: dict[str, Outcome]) -> dict:
    """Per benchmark x variant: the suite fingerprint and each seed's status and final metrics."""
    files = {b.name: _suite_file(suite_dir, b) for b in suites}
    entries: dict[tuple[str, str], dict] = {}
    for task in tasks:
        cfg = task.config
        entry = entries.setdefault((cfg.benchmark, cfg.variant), {
            "schema": SCHEMA, "benchmark": cfg.benchmark, "variant": cfg.variant, "profile": PROFILE,
            "suite": files[cfg.benchmark], "seeds": {},
        })
        entry["seeds"][str(cfg.seed)] = _seed_summary(task, outcomes.get(task.run_id))
    return entries


def _suite_file(suite_dir: Path, bench: BenchmarkConfig) -> dict:
    profile = bench.profile(PROFILE)
    return {"name": bench.name, "sha256": suite_fingerprint(suite_dir, bench.name), "budget": profile.budget,
            "seeds": list(profile.seeds)}


def suite_fingerprint(suite_dir: Path, name: str) -> str:
    """sha256 of what a suite file says, parsed (comments, layout and the description do
    not count; code changes that add config fields do not either)."""
    data = tomllib.loads((Path(suite_dir) / f"{name}.toml").read_text())
    data.pop("description", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _seed_summary(task: Task, outcome: Optional[Outcome]) -> dict:
    if outcome is not None and outcome.status in ("failed", "claimed"):
        return {"status": "failed", "error": outcome.error}
    try:
        record = read_record(Path(task.run_dir))
    except GanbenchError as exc:
        return {"status": "failed", "error": str(exc)}
    if record["status"] not in FINAL_STATUSES:
        return {"status": "failed", "error": f"run ended {record['status']}"}
    return {"status": record["status"], "diverged": record.get("diverged"), "g_steps": record["spent"]["g_steps"],
            "metrics": record["metrics"]}


def tolerance(metric: str, base: list[float]) -> float:
    """max(K * std over seeds, absolute floor, relative floor * |mean|) for a baseline sample."""
    spread = statistics.stdev(base) if len(base) > 1 else 0.0
    floor = ABS_FLOOR[split_key(metric)[0]]
    return max(K * spread, floor, REL_FLOOR * abs(statistics.fmean(base)))


def compare(baseline: dict, entries: dict) -> list[Check]:
    """Every check of every benchmark x variant, sorted (benchmark, variant, metric order)."""
    checks = []
    for key in sorted(set(entries) | set(baseline)):
        bench, variant = key
        if key not in entries:  # the caller kept only the baseline entries it selected
            checks.append(Check(bench, variant, "diverged", "in baseline", "not run", "-", "FAIL",
                                f"{bench}/{variant} is in the baseline but was not run: a variant or benchmark "
                                "removed? remake the baseline with --update-baseline --reason"))
            continue
        if key not in baseline:
            checks.append(Check(bench, variant, "diverged", "-", f"{bad_seeds(entries[key])}/{len(entries[key]['seeds'])}",
                                "-", "NEW", "no baseline yet: add one with --update-baseline --reason"))
            continue
        checks.extend(_checks(baseline[key], entries[key]))
    return checks


def _checks(base: dict, now: dict) -> list[Check]:
    bench, variant = now["benchmark"], now["variant"]
    b_bad, n_bad = bad_seeds(base), bad_seeds(now)
    errors = "; ".join(f"seed {k}: {s.get('error') or s.get('diverged')}" for k, s in sorted(now["seeds"].items())
                       if s["status"] in ("diverged", "failed"))
    checks = [Check(bench, variant, "diverged", f"{b_bad}/{len(base['seeds'])}", f"{n_bad}/{len(now['seeds'])}", "0",
                    "FAIL" if n_bad > b_bad else "PASS", errors)]
    metrics = {k for s in base["seeds"].values() for k in s.get("metrics", {}) if split_key(k)[0] in ABS_FLOOR}
    for metric in sort_metrics(metrics):
        b, n = seed_values(base, metric), seed_values(now, metric)
        if not b:
            continue  # every baseline seed diverged: nothing to compare against
        tol, b_mean = tolerance(metric, b), statistics.fmean(b)
        worse = math.inf if not n else (b_mean - statistics.fmean(n)) * (1 if higher_is_better(metric) else -1) + 0.0
        std = statistics.stdev(b) if len(b) > 1 else 0.0
        checks.append(Check(
            bench, variant, metric, f"{b_mean:.4g} ±{std:.2g}", f"{statistics.fmean(n):.4g}" if n else "none",
            f"{tol:.3g}", "FAIL" if worse > tol else "PASS",
            f"per seed {_fmt(b)} -> {_fmt(n)}; worse by {worse:.4g}",
        ))
    return checks


def _fmt(xs: list[float]) -> str:
    return "[" + ", ".join(f"{x:.4g}" for x in xs) + "]"


def check_suite_unchanged(suite_dir: Path, suites: list[BenchmarkConfig], baseline: dict, baseline_dir: Path) -> None:
    """Refuse to compare against a baseline made from another suite definition."""
    for bench in suites:
        made = {e["suite"]["sha256"] for (b, _), e in baseline.items() if b == bench.name}
        if made and made != {suite_fingerprint(suite_dir, bench.name)}:
            raise GanbenchError(
                f"the stability benchmark {bench.name!r} changed since {baseline_dir}/{bench.name}/ was made; "
                "rerun with --update-baseline --reason TEXT to make a new baseline")
