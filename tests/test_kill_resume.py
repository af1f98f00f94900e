"""Kill-resume equality: a run SIGKILLed at a chosen step and resumed ends
bit for bit where the uninterrupted run ends, for every registered variant on
ring8 (and loss-sensitive's gradient-norm option, which draws inside its
penalty, and an r3gan run whose generator EMA moves) and for a DCGAN image run with batch norm.

The kill is synchronised on an event, not on the clock: the child stops itself
at the step (ganbench.training.pause, GANBENCH_TEST_PAUSE) and the test wakes on
``waitpid(WUNTRACED)``. The step lies between checkpoints, so the resumed run
redoes the steps the kill lost.
"""

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import torch

from ganbench.config.run import Budget, RunConfig
from ganbench.core.io import safe_torch_load
from ganbench.core.record import comparable, read_record
from ganbench.training.pause import PAUSE
from ganbench.training.trainer import train
from ganbench.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
STEPS, CHECKPOINT_EVERY, KILL_AT = 12, 5, 8  # resumes from step 5, redoes 6-8

SCRIPT = """
import json, sys, torch
torch.set_num_threads(1)
from ganbench.config.run import RunConfig
from ganbench.core.mapping import from_mapping
from ganbench.training.trainer import train
train(from_mapping(RunConfig, json.loads(sys.argv[2]), "test"), sys.argv[1])
"""


def ring8(variant, **options):
    return RunConfig(variant, "ring8", 4, Budget.parse("1e12flops", max_g_steps=STEPS),
                     checkpoint_every=CHECKPOINT_EVERY, variant_options=options)


def start_paused(config: RunConfig, run_dir: Path) -> subprocess.Popen:
    """Start a run in a child that stops itself after generator step KILL_AT."""
    env = {**os.environ, PAUSE: f"train/{config.variant}/seed{config.seed}@{KILL_AT}"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(run_dir), json.dumps(config.to_dict())],
                            env=env, cwd=ROOT)


def kill_when_paused(proc: subprocess.Popen) -> None:
    _, status = os.waitpid(proc.pid, os.WUNTRACED)  # the event: the child stopped at its step
    assert os.WIFSTOPPED(status), f"the run ended (status {status}) before step {KILL_AT}"
    proc.kill()
    proc.wait()


def assert_same_run(resumed_dir: Path, reference_dir: Path) -> None:
    resumed, reference = read_record(resumed_dir), read_record(reference_dir)
    assert resumed["status"] == reference["status"] == "finished"
    assert f"resumed at generator step {CHECKPOINT_EVERY}" in resumed["resume_events"]
    assert comparable(resumed) == comparable(reference)
    assert (resumed_dir / resumed["samples"]).read_bytes() == (reference_dir / reference["samples"]).read_bytes()
    for snapshot in reference["snapshots"]:
        a, b = (safe_torch_load(d / snapshot["path"]) for d in (resumed_dir, reference_dir))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), snapshot["path"]
    for key in ("generator", "generator_ema"):  # the EMA's average too, when the run keeps one
        a, b = (safe_torch_load(d / "checkpoint.pt").get(key, {}) for d in (resumed_dir, reference_dir))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), key


def kill_resume_cases():
    cases = [ring8(name) for name in VARIANTS.names()]
    # PacGAN's code as options: fixed packs resume at the batch the kill lost, per-slot batch norm, one update.
    pacgan = replace(ring8("vanilla"), pack=2, g_batch_norm=True, update="simultaneous", g_per_slot=True,
                     real_packs="fixed", eval_z_seed=2333)
    # An EMA that moves (r3gan's ramp keeps it a copy of G this early), over batch-norm buffers it copies.
    ema = replace(ring8("r3gan"), ema_half_life=256.0, ema_ramp=0.0, g_batch_norm=True)
    return cases + [ring8("loss-sensitive", lipschitz="finite-difference"), pacgan, ema]


def test_every_ring8_variant_resumes_bit_for_bit(tmp_path):
    cases = kill_resume_cases()
    # Start every killed run first (they run side by side), then the references here.
    procs = [start_paused(cfg, tmp_path / f"killed{i}") for i, cfg in enumerate(cases)]
    try:
        for i, cfg in enumerate(cases):
            train(cfg, tmp_path / f"ref{i}")
    finally:
        for proc in procs:
            kill_when_paused(proc)
    for i, cfg in enumerate(cases):
        killed = read_record(tmp_path / f"killed{i}")
        assert killed["status"] == "interrupted" and killed["spent"]["g_steps"] == CHECKPOINT_EVERY, cfg.variant
        train(cfg, tmp_path / f"killed{i}")
        assert_same_run(tmp_path / f"killed{i}", tmp_path / f"ref{i}")


def test_dcgan_batch_norm_image_run_resumes_bit_for_bit(tmp_path):
    from tests.test_datasets import write_mnist_like

    data = write_mnist_like(tmp_path / "data", n_train=64)
    cfg = RunConfig("vanilla", "fashion-mnist", 0, Budget.parse("1e12flops", max_g_steps=STEPS), width=8,
                    checkpoint_every=CHECKPOINT_EVERY, data_dir=str(data))
    proc = start_paused(cfg, tmp_path / "killed")
    train(cfg, tmp_path / "ref")
    kill_when_paused(proc)
    assert read_record(tmp_path / "killed")["config"]["d_norm"] == "batch"
    train(cfg, tmp_path / "killed")
    assert_same_run(tmp_path / "killed", tmp_path / "ref")


def test_pause_point_does_nothing_for_other_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(PAUSE, f"train/lsgan/seed4@{KILL_AT}")
    record = train(ring8("vanilla"), tmp_path)  # another run id: never stops
    assert record["status"] == "finished" and record["spent"]["g_steps"] == STEPS
