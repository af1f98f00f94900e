"""The perf scripts' shared timer (benchmarks/perf/_common.py) wraps trainer functions by
name: it must pass their arguments through unchanged, or every script built on it
(gpu_readiness.py, trainer_overhead.py) reports each run as failed. Timings are not
asserted (the machines are shared); the scripts print them."""

import sys
from pathlib import Path

import torch

from ganbench.config.run import Budget, RunConfig
from ganbench.training import trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "perf"))
import _common as C  # noqa: E402


def test_timed_train_runs_the_real_trainer_and_counts_its_parts(tmp_path):
    config = RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=6), width=16, batch_size=32,
                       checkpoint_every=2, snapshot_fractions=(0.5, 1.0))
    record, timing = C.timed_train(config, tmp_path)
    trainer.train(config, tmp_path / "alone")
    assert record["status"] == "finished" and record["spent"]["g_steps"] == 6
    assert timing.iterations == 6 and len(timing.per_iteration) == 6
    assert len(timing.checkpoint_seconds) == 3  # in-loop checkpoints at steps 2, 4, 6
    assert timing.loop_end is not None and timing.loop_seconds() > 0
    final = torch.load(tmp_path / "alone" / "snapshots" / "g_1.00.pt", weights_only=True)
    assert C.same_tensors(record["_final_generator"], final)  # the wrappers change nothing
    assert trainer.checkpoint is not None and trainer.train_iteration.__name__ == "train_iteration"  # restored


def test_the_timer_passes_a_group_members_random_state_to_its_checkpoint(tmp_path):
    """A seed group's checkpoints carry each member's own stream (``rng=``): the wrapped
    ``checkpoint`` must hand it on, or each member's file would hold the global state."""
    from dataclasses import replace

    config = RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=4), width=16, batch_size=32,
                       checkpoint_every=2, snapshot_fractions=(1.0,))
    configs = [replace(config, seed=s) for s in (0, 1)]
    with C.TrainTimer().installed():
        trainer.train_seeds(configs, [tmp_path / f"timed{s}" for s in (0, 1)], group=True)
    trainer.train_seeds(configs, [tmp_path / f"plain{s}" for s in (0, 1)], group=True)
    for s in (0, 1):
        timed, plain = (torch.load(tmp_path / f"{kind}{s}" / "checkpoint.pt", weights_only=False)
                        for kind in ("timed", "plain"))
        assert torch.equal(timed["rng"]["cpu"], plain["rng"]["cpu"])
