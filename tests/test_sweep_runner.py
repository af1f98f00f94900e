"""The ask/run/tell loop with a fake executor (no training): rounds, retries, re-runs."""

from pathlib import Path

import pytest

from ganbench.config.benchmarks import discover
from ganbench.core.record import SCHEMA_VERSION, write_record
from ganbench.suite.tasks import Outcome
from ganbench.sweep import SweepPlan, rerun_best, run_sweep, write_sweep_report

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
RING8 = discover(ROOT / "benchmarks", ("ring8",))[0]


class FakeExecutor:
    """Writes a finished record whose score is a function of lr; fails run ids in ``fail`` once."""

    def __init__(self, fail=()):
        self.calls, self.fail = [], set(fail)

    def __call__(self, tasks):
        self.calls.append([t.run_id for t in tasks])
        for task in tasks:
            if task.run_id in self.fail:
                self.fail.discard(task.run_id)
                yield Outcome(task.run_id, "failed", error="worker crashed")
                continue
            modes = float(round(8 * min(task.config.lr / 1e-3, 1.0)))
            write_record(Path(task.run_dir), {
                "schema_version": SCHEMA_VERSION, "run_id": task.run_id, "status": "finished",
                "seed": task.config.seed, "config": task.config.to_dict(), "snapshots": [{}],
                "metrics": {"modes": modes, "reverse_kl": 0.1 * task.config.seed}})
            yield Outcome(task.run_id, "finished")


def states(study_plan, variant):
    storage = f"sqlite:///{(study_plan.out / 'sweeps' / 'ring8' / 'study.db').resolve()}"
    trials = optuna.load_study(study_name=f"ring8/{variant}", storage=storage).get_trials()
    return [t.state.name for t in trials]


def test_tpe_asks_in_rounds_of_the_batch_size_and_tells_each_trial(tmp_path):
    plan = SweepPlan(RING8, ("lsgan",), 5, "smoke", "wide", "tpe", 0, tmp_path, batch=2)
    fake = FakeExecutor()
    summary = run_sweep(plan, fake)
    assert [len(c) for c in fake.calls] == [2, 2, 1]
    assert summary.counts() == {"finished": 5}
    assert states(plan, "lsgan") == ["COMPLETE"] * 5


def test_a_failed_run_stays_open_and_the_next_invocation_retries_only_it(tmp_path):
    plan = SweepPlan(RING8, ("vanilla", "wgan-gp"), 3, "smoke", "wide", "random", 0, tmp_path)
    fake = FakeExecutor(fail={"ring8/wgan-gp/seed1001"})
    first = run_sweep(plan, fake)
    assert [(v, n) for v, n, _ in first.failed()] == [("wgan-gp", 1)]
    assert states(plan, "wgan-gp") == ["COMPLETE", "RUNNING", "COMPLETE"]
    again = run_sweep(plan, fake)
    assert fake.calls[-1] == ["ring8/wgan-gp/seed1001"]
    assert again.counts() == {"finished": 1}
    assert states(plan, "wgan-gp") == ["COMPLETE"] * 3
    assert run_sweep(plan, fake).outcomes == [] and len(fake.calls) == 2  # nothing left: no executor call


def test_fewer_trials_than_asked_runs_only_the_first_ones(tmp_path):
    fake = FakeExecutor(fail={"ring8/vanilla/seed1002", "ring8/vanilla/seed1003"})
    run_sweep(SweepPlan(RING8, ("vanilla",), 4, "smoke", out=tmp_path), fake)
    run_sweep(SweepPlan(RING8, ("vanilla",), 3, "smoke", out=tmp_path), fake)
    assert fake.calls[-1] == ["ring8/vanilla/seed1002"]  # trial 3 waits for a sweep of 4


def test_rerun_best_uses_the_best_configuration_with_seeds_from_zero(tmp_path):
    plan = SweepPlan(RING8, ("vanilla",), 3, "smoke", out=tmp_path)
    fake = FakeExecutor()
    notes = []
    assert rerun_best(plan, 2, fake, notes=notes).outcomes == [] and "0 of 3" in notes[0]
    run_sweep(plan, fake)
    summary = rerun_best(plan, 2, fake)
    assert sorted(n for _, n, _ in summary.outcomes) == [0, 1]
    best = tmp_path / "sweeps" / "ring8" / "vanilla"
    (rerun_dir,) = {p.parent for p in best.glob("best-trial*/seed*")}
    files = write_sweep_report(tmp_path)
    assert {p.name for p in files} == {"README.md", "sweep.png", "trials.csv", "budget_curve.csv", "best.csv"}
    best_csv = (best.parent / "best.csv").read_text().splitlines()
    assert best_csv[1].startswith(f"vanilla,{rerun_dir.name.removeprefix('best-trial')},")
    assert ",2,2,0," in best_csv[1]  # two re-runs, both finished, none diverged
