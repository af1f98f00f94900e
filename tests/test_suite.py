"""The suite: smoke profile through the local pool, skip/redo logic, kill-resume, Ray."""

import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganbench.cli import main
from ganbench.config.benchmarks import discover
from ganbench.core.record import comparable, read_record
from ganbench.suite.executors import run_local
from ganbench.suite.grouping import group_tasks
from ganbench.suite.tasks import _proc_stat, claim, plan, release
from ganbench.variants import VARIANTS
from tests.pausing import kill_when_paused

ROOT = Path(__file__).resolve().parents[1]
TWO = ("ring8", "grid25")
MODES = {"ring8": 8, "grid25": 25}
# Objectives that train reliably at the smoke budget (measured on its seeds 0 and 1: never
# diverged, best seed 8/8 ring modes, 18-22/25 grid modes); wgan-gp and loss-sensitive
# get too few generator steps there to be held to mode counts.
STABLE = ("vanilla", "vanilla-mm", "lsgan")


def smoke_tasks(out, names=TWO, variants=()):
    return plan(discover(ROOT / "benchmarks", names), "smoke", out, variants=variants)


@pytest.fixture(scope="module")
def suite_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("suite")
    outcomes = list(run_local(smoke_tasks(out), workers=2))
    return out, outcomes


def test_smoke_suite_of_two_benchmarks_with_two_workers(suite_out):
    out, outcomes = suite_out
    tasks = smoke_tasks(out)
    assert len(outcomes) == len(tasks) == 2 * len(VARIANTS.names()) * 2  # benchmarks x variants x seeds
    assert {o.status for o in outcomes} == {"finished"}, [o for o in outcomes if o.status != "finished"]
    best = {name: 0.0 for name in TWO}
    reached = {}  # (benchmark, variant) -> most modes over its seeds
    for task in tasks:
        record = read_record(Path(task.run_dir))
        assert record["run_id"] == task.run_id and record["benchmark"] in TWO
        assert record["spent"]["flops"] <= record["budget"]["limit"]
        assert all(s["metrics"] for s in record["snapshots"])
        m, modes = record["metrics"], MODES[record["benchmark"]]
        assert 0 <= m["modes"] <= modes and 0 <= m["high_quality"] <= 100, record["run_id"]
        assert (m["reverse_kl"] is None) == (m["high_quality"] == 0), record["run_id"]  # undefined without HQ samples
        if m["reverse_kl"] is not None:
            assert 0 <= m["reverse_kl"] <= math.log(modes) + 1e-9, record["run_id"]  # log K: all mass on one mode
        if record["variant"] in STABLE:
            key = (record["benchmark"], record["variant"])
            reached[key] = max(reached.get(key, 0.0), m["modes"])
            best[record["benchmark"]] = max(best[record["benchmark"]], m["modes"])
    # A single seed may end this small budget near no mode (ring8 vanilla: 1 of 6 seeds, with either
    # Adam kernel), but a stable objective that reaches none on any seed is broken.
    assert all(modes >= 1 for modes in reached.values()), reached
    # At this budget (measured: ring8 best 8, grid25 best 22 of 25; a seed may still collapse)
    # the stable objectives must reach most modes on at least one seed.
    assert best["ring8"] >= 6 and best["grid25"] >= 15, best


def test_rerun_does_no_work_and_a_deleted_record_is_redone(suite_out):
    out, _ = suite_out
    tasks = smoke_tasks(out)
    again = list(run_local(tasks, workers=2))
    assert {o.status for o in again} == {"skipped"}
    victim = Path(tasks[3].run_dir)
    before = read_record(victim)
    for name in ("record.json", "checkpoint.pt", "checkpoint.prev.pt"):
        (victim / name).unlink(missing_ok=True)
    redo = list(run_local(tasks, workers=2))
    redone = [o for o in redo if o.status != "skipped"]
    assert [o.run_id for o in redone] == [tasks[3].run_id]
    assert comparable(read_record(victim)) == comparable(before)


def test_records_do_not_depend_on_worker_count(suite_out, tmp_path):
    out, _ = suite_out
    tasks = smoke_tasks(tmp_path, names=("ring8",), variants=("wgan-gp", "lsgan"))
    list(run_local(tasks, workers=1))
    for task in tasks:
        twin = out / Path(task.run_dir).relative_to(tmp_path)
        assert comparable(read_record(Path(task.run_dir))) == comparable(read_record(twin))


def test_claims_are_exclusive_and_stale_claims_are_taken_over(tmp_path):
    assert claim(tmp_path)
    assert not claim(tmp_path)  # held by this live process
    release(tmp_path)
    (tmp_path / ".claim").write_text(f"{os.uname().nodename} 99999999\n")  # a dead pid
    assert claim(tmp_path)
    release(tmp_path)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs procfs")
def test_claims_of_zombies_and_reused_pids_are_stale(tmp_path):
    # A worker killed with its suite stays a zombie where nothing reaps orphans
    # (CI containers): os.kill(pid, 0) still succeeds, yet the claim is dead.
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    while _proc_stat(child.pid)[0] != "Z":
        time.sleep(0.01)
    (tmp_path / ".claim").write_text(f"{os.uname().nodename} {child.pid}\n")
    os.kill(child.pid, 0)  # the zombie answers signal 0
    assert claim(tmp_path)
    child.wait()
    release(tmp_path)
    # A live pid whose start time differs is a new process that reused the pid.
    (tmp_path / ".claim").write_text(f"{os.uname().nodename} {os.getppid()} 1\n")
    assert claim(tmp_path)
    release(tmp_path)
    assert not (tmp_path / ".claim").exists()


def test_sigkill_mid_suite_then_rerun_completes_without_duplicates(tmp_path):
    command = [sys.executable, "-m", "ganbench", "run", "ring8", "--profile", "smoke", "--out", str(tmp_path),
               "--workers", "2", "--no-report", "--benchmarks-dir", str(ROOT / "benchmarks")]
    # The event: the fourth task of the plan (a seed group by default: its first member) stops itself at
    # step 5 (ganbench.training.pause) and says so on a FIFO; by then the two workers have finished at
    # least one earlier task.
    victim = group_tasks(smoke_tasks(tmp_path, names=("ring8",)), "auto", workers=2)[3].run_id
    kill_when_paused(command, victim, 5, tmp_path / "paused")
    runs = tmp_path / "runs" / "ring8"
    done_before = {p: p.stat().st_mtime_ns for p in runs.glob("*/*/record.json")
                   if read_record(p)["status"] in ("finished", "diverged") and read_record(p)["metrics"]}
    n_runs = 2 * len(VARIANTS.names())  # ring8 smoke: every variant x 2 seeds
    assert 1 <= len(done_before) < n_runs, "the kill must land mid-suite, after a run finished"
    assert read_record(runs / Path(victim).relative_to("ring8") / "record.json")["status"] == "interrupted"
    result = CliRunner().invoke(main, command[3:])
    assert result.exit_code == 0, result.output
    records = sorted(runs.glob("*/*/record.json"))
    assert len(records) == n_runs
    assert all(read_record(p)["status"] in ("finished", "diverged") for p in records)
    for path, mtime in done_before.items():  # nothing finished before the kill was redone
        assert path.stat().st_mtime_ns == mtime


def test_cli_run_reports_summary_and_rejects_missing_names(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "pass --all" in result.output
    result = runner.invoke(main, ["run", "ring9", "--benchmarks-dir", str(ROOT / "benchmarks")])
    assert result.exit_code == 2 and "unknown benchmark 'ring9'" in result.output


@pytest.mark.slow
def test_ray_executor_matches_local_records(suite_out, tmp_path):
    ray = pytest.importorskip("ray")
    from ganbench.suite.executors import run_ray

    out, _ = suite_out
    tasks = smoke_tasks(tmp_path, names=("ring8",), variants=("vanilla", "loss-sensitive"))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        outcomes = list(run_ray(tasks))
    finally:
        ray.shutdown()
    assert {o.status for o in outcomes} <= {"finished", "diverged"}, outcomes
    for task in tasks:
        twin = out / Path(task.run_dir).relative_to(tmp_path)
        assert comparable(read_record(Path(task.run_dir))) == comparable(read_record(twin))
