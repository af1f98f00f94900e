"""The fault matrix: kills, corrupt checkpoints, concurrent suites, full disks,
non-finite losses, fuzzed input and pickled checkpoints. Nothing is lost, nothing
is done twice, and every failure is a clear message.

Complements tests/test_kill_resume.py (SIGKILL at a chosen step, every variant),
tests/test_trainer.py (garbage latest checkpoint, safe_torch_load on a pickled
object, divergence of a variant) and tests/test_suite.py (claim files, SIGKILL of a whole suite then rerun). Input
fuzzing lives in tests/test_fuzz.py.
"""

import dataclasses
import errno
import fcntl
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganbench.core.io
import ganbench.training.trainer
from ganbench.cli import main
from ganbench.config.benchmarks import load_benchmark
from ganbench.config.run import Budget, RunConfig
from ganbench.core.errors import GanbenchError
from ganbench.core.record import comparable, read_record
from ganbench.regress.check import run_tasks
from ganbench.suite.tasks import CLAIM, claim, execute, plan, release
from ganbench.training.trainer import train

ROOT = Path(__file__).resolve().parents[1]
# 120 generator steps of lsgan on ring8, a checkpoint every 20: about a second.
CONFIG = RunConfig("lsgan", "ring8", 3, Budget.parse("1e12flops", max_g_steps=120), checkpoint_every=20)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run, and how many steps and file renames it makes."""
    counts = {"step": 0, "write": 0}
    account, replace = ganbench.training.trainer.account, os.replace

    def counting(kind, fn):
        def wrapped(*args, **kwargs):
            counts[kind] += 1
            return fn(*args, **kwargs)
        return wrapped

    ganbench.training.trainer.account, os.replace = counting("step", account), counting("write", replace)
    try:
        record = train(CONFIG, tmp_path_factory.mktemp("reference"))
    finally:
        ganbench.training.trainer.account, os.replace = account, replace
    return record, counts


# --- SIGKILL at random points -------------------------------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent("""
    import json, os, signal, sys, torch
    torch.set_num_threads(1)
    import ganbench.training.trainer as trainer
    from ganbench.config.run import RunConfig
    from ganbench.core.mapping import from_mapping
    run_dir, config, hook, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    calls = [0]
    def kill_on_nth(fn):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapped
    if hook == "step":   # before the n-th iteration is accounted: mid-training
        trainer.account = kill_on_nth(trainer.account)
    else:                # before the n-th rename: a temp file written, the old file still in place
        os.replace = kill_on_nth(os.replace)
    trainer.train(from_mapping(RunConfig, json.loads(config), "test"), run_dir)
""")



def kill_points(counts, n=4, seed=2024):
    """Fixed-seed random kill points: half mid-step, half mid-write (checkpoint, record, snapshot, samples)."""
    rng = random.Random(seed)
    return [("step", rng.randint(1, counts["step"])) if i % 2 == 0 else ("write", rng.randint(1, counts["write"]))
            for i in range(n)]


def test_sigkill_at_random_points_resumes_to_the_uninterrupted_record(reference, tmp_path):
    record, counts = reference
    for hook, n in kill_points(counts):
        run_dir = tmp_path / f"{hook}{n}"
        config = json.dumps(CONFIG.to_dict())
        proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(run_dir), config, hook, str(n)], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == -signal.SIGKILL, f"{hook} {n}: not killed ({proc.returncode}): {proc.stderr[-2000:]}"
        resumed = train(CONFIG, run_dir)
        assert comparable(resumed) == comparable(record), f"killed at {hook} #{n}"
        assert resumed["status"] == "finished"


# --- corrupt, truncated and malicious checkpoints -----------------------------------------------------------------

def finished_then_reopened(tmp_path) -> Path:
    """A run directory holding both checkpoint generations, its record removed so it must resume."""
    run_dir = tmp_path / "run"
    train(CONFIG, run_dir)
    (run_dir / "record.json").unlink()
    return run_dir


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_truncated_latest_checkpoint_falls_back_to_the_previous(reference, tmp_path):
    run_dir = finished_then_reopened(tmp_path)
    truncate(run_dir / "checkpoint.pt")
    resumed = train(CONFIG, run_dir)
    events = resumed["resume_events"]
    assert any(e.startswith("ignored checkpoint.pt") and "cannot be loaded safely" in e for e in events), events
    assert "resumed from checkpoint.prev.pt (latest checkpoint unusable)" in events
    assert comparable(resumed) == comparable(reference[0])


def test_both_checkpoints_corrupt_restarts_from_scratch_and_says_so(reference, tmp_path):
    run_dir = finished_then_reopened(tmp_path)
    truncate(run_dir / "checkpoint.pt")
    (run_dir / "checkpoint.prev.pt").write_bytes(b"\x00" * 100)
    resumed = train(CONFIG, run_dir)
    assert resumed["resume_events"][-1] == "no usable checkpoint: restarted from scratch"
    assert sum(e.startswith("ignored") for e in resumed["resume_events"]) == 2
    assert comparable(resumed) == comparable(reference[0])


def _pwned(marker):
    """What a malicious checkpoint would run when unpickled: here, just leave a marker."""
    Path(marker).write_text("executed")


class Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return _pwned, (self.marker,)


def test_checkpoint_carrying_a_pickled_object_is_refused_by_the_trainer(reference, tmp_path):
    marker = tmp_path / "executed"
    evil = {"state": Payload(str(marker)), "config": CONFIG.to_dict()}
    torch.save(evil, tmp_path / "probe.pt")
    torch.load(tmp_path / "probe.pt", weights_only=False)  # the payload is live: an unsafe load runs it
    assert marker.exists()
    marker.unlink()
    run_dir = finished_then_reopened(tmp_path)
    torch.save(evil, run_dir / "checkpoint.pt")
    resumed = train(CONFIG, run_dir)
    assert not marker.exists(), "the trainer executed a pickled object from a checkpoint"
    assert any(e.startswith("ignored checkpoint.pt") and "cannot be loaded safely" in e
               for e in resumed["resume_events"]), resumed["resume_events"]
    assert "resumed from checkpoint.prev.pt (latest checkpoint unusable)" in resumed["resume_events"]
    assert comparable(resumed) == comparable(reference[0])
    torch.save(evil, run_dir / "checkpoint.pt")  # both generations malicious: restart, still nothing executed
    torch.save(evil, run_dir / "checkpoint.prev.pt")
    (run_dir / "record.json").unlink()
    again = train(CONFIG, run_dir)
    assert not marker.exists() and again["resume_events"][-1] == "no usable checkpoint: restarted from scratch"
    assert comparable(again) == comparable(reference[0])


# --- two `ganbench run` processes on one results directory --------------------------------------------------------

SITECUSTOMIZE = textwrap.dedent("""
    # Loaded by every interpreter of the test (workers too). When ganbench.training.trainer is
    # imported, wrap build_run so each run a process starts training is logged with
    # its suite's tag, and hold every run at a barrier until the test opens the gate:
    # the first run of each suite announces itself on the FIFO, then blocks on a
    # shared flock of the gate file that the test holds exclusively until both
    # suites have announced a run. Both suites are then inside a run at once.
    import fcntl, importlib.abc, importlib.util, os, sys

    def wait_at_gate():
        with open(os.environ["GANBENCH_TEST_GATE"]) as gate:
            try:
                fcntl.flock(gate, fcntl.LOCK_SH | fcntl.LOCK_NB)  # already open: go
                return
            except BlockingIOError:
                pass
            with open(os.environ["GANBENCH_TEST_ARRIVALS"], "w") as fifo:
                fifo.write(os.environ["GANBENCH_TRAIN_TAG"] + "\\n")
            fcntl.flock(gate, fcntl.LOCK_SH)  # blocks until the test releases the gate

    def log_build_run(trainer):
        build_run = trainer.build_run
        def logged(config, data):
            if config.benchmark is not None:  # None: suite.check_plan counting FLOPs, nothing trained
                with open(os.environ["GANBENCH_TRAIN_LOG"], "a") as log:
                    log.write(f"{config.benchmark}/{config.variant}/seed{config.seed} {os.environ['GANBENCH_TRAIN_TAG']}\\n")
                wait_at_gate()
            return build_run(config, data)
        trainer.build_run = logged

    class Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "ganbench.training.trainer":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            exec_module = spec.loader.exec_module
            def exec_and_patch(module):
                exec_module(module)
                log_build_run(module)
            spec.loader.exec_module = exec_and_patch
            return spec

    if os.environ.get("GANBENCH_TRAIN_LOG"):
        sys.meta_path.insert(0, Hook())
""")


def test_two_suite_processes_on_one_directory_do_each_run_once(tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log, out, gate, arrivals = tmp_path / "train.log", tmp_path / "results", tmp_path / "gate", tmp_path / "arrivals"
    gate.touch()
    os.mkfifo(arrivals)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(hooks), str(ROOT)]), "GANBENCH_TRAIN_LOG": str(log),
           "GANBENCH_TEST_GATE": str(gate), "GANBENCH_TEST_ARRIVALS": str(arrivals)}
    command = [sys.executable, "-m", "ganbench", "run", "ring8", "--profile", "smoke", "--out", str(out),
               "--workers", "1", "--no-report", "--variant", "lsgan", "--variant", "vanilla-mm",
               "--benchmarks-dir", str(ROOT / "benchmarks")]
    fifo = os.open(arrivals, os.O_RDWR)  # read and write ends held: writers never block, reads never see EOF
    with open(gate) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        procs = [subprocess.Popen(command, env={**env, "GANBENCH_TRAIN_TAG": tag}, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for tag in "AB"]
        arrived = ""
        while set(arrived.split()) != {"A", "B"}:  # the barrier: both suites are inside a claimed run
            ready, _, _ = select.select([fifo], [], [], 300)  # a safety net against a hang, not a timing check
            assert ready, f"the suites never both reached a run: {arrived!r}, {[p.poll() for p in procs]}"
            arrived += os.read(fifo, 64).decode()
        fcntl.flock(held, fcntl.LOCK_UN)
        outputs = [p.communicate(timeout=300)[0] for p in procs]
    os.close(fifo)
    assert [p.returncode for p in procs] == [0, 0], outputs
    started = sorted(line.split() for line in log.read_text().splitlines())
    expected = sorted(f"ring8/{v}/seed{s}" for v in ("lsgan", "vanilla-mm") for s in (0, 1))
    assert sorted(run for run, _ in started) == expected, f"runs trained more (or less) than once: {started}"
    assert {tag for _, tag in started} == {"A", "B"}, "one suite trained every run: no overlap"
    for path in sorted((out / "runs").glob("*/*/*/record.json")):
        record = read_record(path)  # parses: not torn
        assert record["status"] == "finished" and all(s["metrics"] for s in record["snapshots"])
    assert not list(out.rglob(".claim")) and not list(out.rglob("*.tmp"))


def test_a_visible_claim_always_names_its_live_owner(tmp_path, monkeypatch):
    """A claim file seen empty looks stale to another process, which then runs the
    same run too: claims must appear with their owner already in them. The claim
    becomes visible at its hard link; what the link exposes is read at that very
    moment (deterministic: a watcher thread racing the writer saw nothing under load)."""
    exposed, real_link = [], os.link

    def link_and_look(src, dst, *args, **kwargs):
        real_link(src, dst, *args, **kwargs)
        exposed.append(Path(dst).read_text())  # the first state another process can see

    monkeypatch.setattr(os, "link", link_and_look)
    for _ in range(20):
        assert claim(tmp_path)
        assert (tmp_path / CLAIM).read_text() == exposed[-1]  # nothing written after it became visible
        release(tmp_path)
    assert len(exposed) == 20, "claims no longer appear by hard-linking a complete file"
    assert all(text.split()[:2] == [os.uname().nodename, str(os.getpid())] for text in exposed), exposed


# --- a full disk / read-only directory while writing ----------------------------------------------------------------

class FullDisk:
    """Makes ganbench.core.io's writes of files named ``name`` fail with ENOSPC after ``allowed`` good ones."""

    def __init__(self, monkeypatch, name="record.json", allowed=0):
        self.name, self.allowed, self.last = name, allowed, None
        real_mkstemp, real_fdopen = ganbench.core.io.tempfile.mkstemp, ganbench.core.io.os.fdopen

        def mkstemp(*args, **kwargs):
            fd, path = real_mkstemp(*args, **kwargs)
            self.last = Path(path)
            return fd, path

        def fdopen(fd, *args, **kwargs):
            fh = real_fdopen(fd, *args, **kwargs)
            if self.last is not None and self.last.name.startswith(f".{self.name}."):
                if self.allowed <= 0:
                    return NoSpace(fh)
                self.allowed -= 1
            return fh

        monkeypatch.setattr(ganbench.core.io.tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(ganbench.core.io.os, "fdopen", fdopen)


class NoSpace:
    """A file whose writes fail as on a full disk."""

    def __init__(self, fh):
        self.fh = fh

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_mid_run_keeps_the_last_record_then_resumes(reference, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    full = FullDisk(monkeypatch, allowed=3)  # the start record and two checkpoint records get written
    with pytest.raises(GanbenchError, match="No space left on device.*earlier files are intact"):
        train(CONFIG, run_dir)
    monkeypatch.undo()
    kept = read_record(run_dir)
    assert full.allowed == 0 and kept["status"] == "interrupted" and kept["spent"]["g_steps"] == 40
    assert not list(run_dir.glob(".*.tmp")), "the failed write left its temp file"
    resumed = train(CONFIG, run_dir)  # space freed: the run resumes to the uninterrupted result
    assert comparable(resumed) == comparable(reference[0])


def test_disk_full_fails_one_suite_run_and_leaves_earlier_records_intact(tmp_path, monkeypatch):
    tasks = plan([load_benchmark(ROOT / "benchmarks" / "ring8.toml")], "smoke", tmp_path, variants=("lsgan",))
    tasks = [dataclasses.replace(t, config=dataclasses.replace(t.config, budget=CONFIG.budget)) for t in tasks]
    assert execute(tasks[0]).status == "finished"
    before = Path(tasks[0].run_dir, "record.json").read_bytes()
    FullDisk(monkeypatch)
    outcome = execute(tasks[1])
    assert outcome.status == "failed" and "No space left on device" in outcome.error
    assert "Traceback" not in outcome.error
    assert Path(tasks[0].run_dir, "record.json").read_bytes() == before


@pytest.mark.parametrize("fault, message", [
    ("full", "No space left on device (disk full or read-only?)"),
    ("read-only", "Read-only file system; check the directory exists and is writable"),
])
def test_cli_reports_write_failures_without_traceback(tmp_path, monkeypatch, fault, message):
    if fault == "full":
        FullDisk(monkeypatch)
    else:
        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr(ganbench.core.io.tempfile, "mkstemp", read_only)
    result = CliRunner().invoke(main, ["train", "--variant", "lsgan", "--dataset", "ring8", "--budget", "1e9flops",
                                       "--out", str(tmp_path / "run")])
    assert result.exit_code == 2 and "error: cannot write" in result.output and message in result.output
    assert "Traceback" not in result.output


NOBODY = 65534  # the conventional unprivileged uid/gid


def write_record_as_unprivileged(path):
    """``atomic_write_json(path, {})`` in a forked child that has given up root
    (root writes through chmod); returns the GanbenchError's message, or None.
    The child enters the directory while still root, so the (private) test
    directories above it need not be opened to others."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read)
            os.chdir(path.parent)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                ganbench.core.io.atomic_write_json(Path(path.name), {})
                message = ""
            except GanbenchError as exc:
                message = str(exc)
            os.write(write, message.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        message = pipe.read()
    os.waitpid(pid, 0)
    return message or None


def test_read_only_results_directory_for_real(tmp_path):
    run = tmp_path / "run"
    train(CONFIG, run)
    before = (run / "record.json").read_bytes()
    run.chmod(0o555)
    try:
        if os.geteuid() == 0:
            message = write_record_as_unprivileged(run / "record.json")
        else:
            with pytest.raises(GanbenchError) as caught:
                ganbench.core.io.atomic_write_json(run / "record.json", {})
            message = str(caught.value)
    finally:
        run.chmod(0o755)
    assert message is not None and re.search("cannot write .*Permission denied.*writable", message), message
    assert (run / "record.json").read_bytes() == before


# --- non-finite losses at a chosen step -----------------------------------------------------------------------------

STEPS_SUITE = """
dataset = "ring8"
variants = ["lsgan", "vanilla"]
[profiles.smoke]
budget = "1e12flops"
max_g_steps = 40
seeds = [0, 1]
snapshot_fractions = [0.25, 0.5, 1.0]
train = { batch_size = 64, width = 32 }
eval = { n_samples = 500 }
"""
# (variant, seed) -> (generator step, which loss, value) injected by the trainer's view of the losses
INJECT = {("lsgan", 1): (23, "g_loss", float("nan")), ("vanilla", 0): (7, "d_loss", float("inf"))}


def test_non_finite_loss_at_a_chosen_step_is_recorded_and_the_suite_goes_on(tmp_path, monkeypatch):
    (tmp_path / "steps.toml").write_text(STEPS_SUITE)
    tasks = plan([load_benchmark(tmp_path / "steps.toml")], "smoke", tmp_path / "out")
    real, calls = ganbench.training.trainer.train_iteration, {}

    def injecting(run, n_critic=None):
        d_losses, g_loss = real(run, n_critic)
        key = (run.config.variant, run.config.seed)
        calls[key] = calls.get(key, 0) + 1
        step, loss, value = INJECT.get(key, (None, None, None))
        if calls[key] == step:
            return (d_losses[:-1] + [value], g_loss) if loss == "d_loss" else (d_losses, value)
        return d_losses, g_loss

    monkeypatch.setattr(ganbench.training.trainer, "train_iteration", injecting)
    outcomes = {o.run_id: o.status for o in run_tasks(tasks, workers=0)}
    assert outcomes == {t.run_id: "diverged" if (t.config.variant, t.config.seed) in INJECT else "finished"
                        for t in tasks}
    for task in tasks:
        record = read_record(Path(task.run_dir))
        injected = INJECT.get((task.config.variant, task.config.seed))
        if injected is None:
            assert record["spent"]["g_steps"] == 40 and record["metrics"]
            continue
        step, loss, value = injected
        assert record["diverged"] == {"g_step": step, "loss": loss, "value": str(value)}
        assert record["spent"]["g_steps"] == step and record["losses"]["g_step"][-1] == step
        assert record["losses"][loss][-1] == str(value)
        assert [s["fraction"] for s in record["snapshots"]] == [f for f in (0.25, 0.5) if f * 40 <= step]
        assert all(s["metrics"] for s in record["snapshots"]) and record["metrics"] == {}
    assert {o.status for o in run_tasks(tasks, workers=0)} == {"skipped"}  # a divergence is a result, not retried
