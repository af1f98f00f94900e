"""A real sweep: 4 trials of two variants on ring8 (smoke), killed mid-way and resumed,
then a no-op invocation, re-runs of the best configurations, and the report."""

import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganbench.cli import main
from ganbench.core.record import read_record
from ganbench.sweep import goal_for, write_sweep_report
from ganbench.sweep.scoring import read_trial
from ganbench.sweep.study import trial_seed
from tests.pausing import kill_when_paused

optuna = pytest.importorskip("optuna")
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = ("vanilla", "wgan-gp")
ARGS = ["ring8", "--variant", VARIANTS[0], "--variant", VARIANTS[1], "--trials", "4", "--profile", "smoke",
        "--workers", "2", "--benchmarks-dir", str(ROOT / "benchmarks")]
GOAL = goal_for("modes")

COMMAND = [sys.executable, "-m", "ganbench", "sweep"]


def complete_records(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/trial*/record.json") if read_trial(p.parent, 0, GOAL).complete)


def all_records(root: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in root.rglob("record.json")}


def invoke(out: Path, *extra: str):
    return CliRunner().invoke(main, ["sweep", *ARGS, "--out", str(out), *extra])


def study_trials(out: Path, variant: str):
    storage = f"sqlite:///{(out / 'sweeps' / 'ring8' / 'study.db').resolve()}"
    return optuna.load_study(study_name=f"ring8/{variant}", storage=storage).get_trials()


@pytest.fixture(scope="module")
def resumed(tmp_path_factory):
    """A sweep SIGKILLed (with its workers) after two trials completed, then rerun."""
    out = tmp_path_factory.mktemp("sweep")
    root = out / "sweeps" / "ring8"
    # The event: the sweep hands its 8 runs to the pool in trial-major order (trial0 vanilla,
    # trial0 wgan-gp, trial1 vanilla, trial1 wgan-gp, ...), so with 2 workers the fourth, trial1
    # of wgan-gp, starts only after two runs finished; it stops itself at step 5 (ganbench.training.pause)
    # and says so on a FIFO.
    victim = f"ring8/{VARIANTS[1]}/seed{trial_seed(1)}"
    kill_when_paused(COMMAND + ARGS + ["--out", str(out), "--no-report"], victim, 5, out / "paused")
    assert read_record(root / VARIANTS[1] / "trial1")["status"] == "interrupted"
    before = {p: p.stat().st_mtime_ns for p in complete_records(root)}
    started = time.perf_counter()
    result = invoke(out, "--no-report")
    return out, before, result, time.perf_counter() - started


def test_killed_sweep_resumes_without_duplicates(resumed):
    out, before, result, _ = resumed
    root = out / "sweeps" / "ring8"
    assert 2 <= len(before) < 8, "the kill must land mid-sweep"
    assert result.exit_code == 0, result.output
    for variant in VARIANTS:
        assert sorted(p.name for p in (root / variant).glob("trial*")) == [f"trial{k}" for k in range(4)]
        trials = study_trials(out, variant)
        assert [t.number for t in trials] == [0, 1, 2, 3]  # nothing asked twice
        assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
        for t in trials:
            record = read_record(root / variant / f"trial{t.number}")
            assert record["benchmark"] == "ring8" and record["seed"] == 1000 + t.number
            assert record["spent"]["flops"] <= record["budget"]["limit"] == 4e10
            assert record["config"]["lr"] == t.params["lr"]
            assert t.value == read_trial(root / variant / f"trial{t.number}", t.number, GOAL).score
    for path, mtime in before.items():  # finished before the kill: never redone
        assert path.stat().st_mtime_ns == mtime


def test_second_invocation_runs_nothing(resumed):
    out = resumed[0]
    records = all_records(out)
    result = invoke(out, "--no-report")
    assert result.exit_code == 0, result.output
    assert "trial: nothing to run" in result.output
    assert all_records(out) == records
    assert all(len(study_trials(out, v)) == 4 for v in VARIANTS)


def test_rerun_best_and_a_deterministic_report(resumed, tmp_path):
    out = resumed[0]
    root = out / "sweeps" / "ring8"
    result = invoke(out, "--rerun-best", "1")
    assert result.exit_code == 0, result.output
    for variant in VARIANTS:
        (rerun,) = root.glob(f"{variant}/best-trial*/seed0/record.json")
        trial = rerun.parent.parent.name.removeprefix("best-")
        record, original = read_record(rerun), read_record(root / variant / trial)
        assert record["seed"] == 0 and record["status"] in ("finished", "diverged")
        assert {k: record["config"][k] for k in ("lr", "betas", "n_critic", "variant_options")} == \
               {k: original["config"][k] for k in ("lr", "betas", "n_critic", "variant_options")}
    names = {"README.md", "sweep.png", "trials.csv", "budget_curve.csv", "best.csv"}
    assert {p.name for p in root.iterdir() if p.is_file()} >= names
    again = write_sweep_report(out, tmp_path)
    assert {p.name for p in again} == names
    for path in again:
        assert path.read_bytes() == (root / path.name).read_bytes(), path.name
    assert len((root / "trials.csv").read_text().splitlines()) == 1 + 8
    assert "| vanilla |" in (root / "README.md").read_text()
