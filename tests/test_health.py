"""Training health (ganbench.training.health): constructed runs that do not train are
flagged, with the check, the step and the amount; healthy runs are not."""

import json
import math
from pathlib import Path

import pytest

from ganbench.config.run import Budget, RunConfig
from ganbench.core.record import comparable, read_record
from ganbench.training import health
from ganbench.training.trainer import train
from ganbench.variants import VARIANTS, register_variant
from ganbench.variants.vanilla import Vanilla

ROOT = Path(__file__).resolve().parents[1]
BUDGET = Budget.parse("3e9flops")  # 58 vanilla iterations on ring8


def ring8(variant="vanilla", seed=0, budget=BUDGET, **kw):
    return RunConfig(variant=variant, dataset="ring8", seed=seed, budget=budget, **kw)


class NoGeneratorGradient(Vanilla):
    """The generator's objective is 0 * scores: a graph, but an exactly zero gradient."""

    def g_objective(self, fake_scores):
        return 0 * fake_scores.sum()


class ConstantCriticLoss(Vanilla):
    """The critic's objective is the constant 1 (its gradient is zero: it never changes)."""

    def d_objective(self, real_scores, fake_scores):
        return 0 * (real_scores.sum() + fake_scores.sum()) + 1.0


@pytest.fixture
def variant():
    """Register a constructed variant for one test, and remove it afterwards."""
    names = []

    def register(name, cls):
        register_variant(name)(cls)
        names.append(name)
        return name

    yield register
    for name in names:
        VARIANTS.unregister(name)


def checks(record) -> list[str]:
    return [f["check"] for f in record["health"]["flags"]]


def test_generator_without_gradient_is_flagged_end_to_end(tmp_path, variant):
    r = train(ring8(variant("no-g-grad", NoGeneratorGradient)), tmp_path)
    assert r["status"] == "finished" and r["spent"]["g_steps"] == 58
    assert r["health"]["ok"] is False
    assert checks(r) == ["zero_generator_gradient", "generator_never_moved"]
    zero, still = r["health"]["flags"]
    assert zero == {"check": "zero_generator_gradient", "from_g_step": 1, "share": 1.0, "steps": 58}
    assert still["relative_shift"] == 0.0  # Adam with zero gradients does not move a weight
    assert read_record(tmp_path)["health"] == r["health"]  # on disk, not only returned


def test_constant_critic_loss_is_flagged(tmp_path, variant):
    r = train(ring8(variant("constant-d", ConstantCriticLoss)), tmp_path)
    assert checks(r) == ["flat_critic_loss"]  # the generator still follows the frozen critic
    (flat,) = r["health"]["flags"]
    assert flat["relative_range"] == 0.0 and flat["d_loss_mean"] == 1.0 and flat["d_steps"] == 58


def test_generator_that_never_moves_is_flagged(tmp_path):
    r = train(ring8(lr_g=1e-12), tmp_path)  # a gradient every step, but updates of 1e-12
    assert checks(r) == ["generator_never_moved"]
    assert 0 < r["health"]["flags"][0]["relative_shift"] < health.STILL_RELATIVE_SHIFT


def test_committed_dead_run_reproduces_and_is_flagged(tmp_path):
    """The committed ring8 loss-sensitive seed 2 before issue 22: L = relu(D) (lsgan.lua)
    with glsgan-gp's early finite-difference penalty, a mix no reference ran. The
    critic's ReLU output is 0 on every fake from the start, so G never gets a gradient."""
    mix = {"loss_output": "relu", "lipschitz": "finite-difference"}
    r = train(ring8("loss-sensitive", seed=2, variant_options=mix), tmp_path)
    assert checks(r) == ["zero_generator_gradient", "flat_critic_loss", "generator_never_moved"]
    assert r["health"]["flags"][0]["from_g_step"] == 1 and r["health"]["flags"][0]["share"] == 1.0
    assert set(r["losses"]["g_loss"]) == {0.0}  # the committed record's pattern


@pytest.mark.parametrize("name", ["vanilla", "hinge", "lsgan", "wgan-gp"])
def test_healthy_default_runs_are_not_flagged(tmp_path, name):
    r = train(ring8(name, seed=1), tmp_path)
    assert r["health"]["ok"] is True and r["health"]["flags"] == []
    seen = r["health"]["observed"]
    assert seen["g_steps"] == r["spent"]["g_steps"] and seen["d_steps"] == r["spent"]["d_steps"]
    assert seen["zero_gradient_steps"] == 0 and seen["generator_shift"] > 1e-2


def test_flagged_run_resumes_to_the_same_record(tmp_path, variant):
    """The counts live in the checkpoint: interrupted at step 23 (checkpoint at 20), resumed,
    the record (health block included) equals the uninterrupted one."""
    config = ring8(variant("no-g-grad", NoGeneratorGradient), checkpoint_every=10)
    reference = train(config, tmp_path / "ref")

    def interrupt(info):
        if info["g_step"] == 23:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "cut", callback=interrupt)
    assert read_record(tmp_path / "cut")["health"]["observed"]["g_steps"] == 23
    resumed = train(config, tmp_path / "cut")
    assert comparable(resumed) == comparable(reference)
    assert resumed["health"]["flags"][0]["steps"] == 58


class Blind:
    """A monitor that looks at nothing (the trainer as it was before health.py)."""

    def __init__(self, *args):
        pass

    def observe(self, state, *args):
        pass

    finish = observe


def test_watching_does_not_change_training(tmp_path, monkeypatch):
    """The probe draws from its own generator and reads eval-mode outputs: the record
    of a watched run is the unwatched one's plus the health block."""
    watched = train(ring8("lsgan"), tmp_path / "watched")
    monkeypatch.setattr("ganbench.training.trainer.HealthMonitor", Blind)
    blind = train(ring8("lsgan"), tmp_path / "blind")
    assert blind["health"] == {} and watched["health"]["ok"] is True
    assert comparable({**watched, "health": {}}) == comparable(blind)


def seen(**kw):
    block = health.new_block()["observed"]
    block.update(kw)
    return block


def test_zero_gradient_share_threshold_and_from_step():
    # 5 of 10 steps: exactly the threshold share flags; from_g_step is where the final stretch began.
    (flag,) = health.assess(seen(g_steps=10, zero_gradient_steps=5, first_zero_gradient=2, zero_gradient_since=6))
    assert flag == {"check": "zero_generator_gradient", "from_g_step": 6, "share": 0.5, "steps": 5}
    assert health.assess(seen(g_steps=10, zero_gradient_steps=4, first_zero_gradient=2)) == []
    # The run ended with a gradient again: the first zero is where it started.
    assert health.assess(seen(g_steps=4, zero_gradient_steps=3, first_zero_gradient=1))[0]["from_g_step"] == 1


def test_flat_critic_loss_rule():
    flat = {"d_steps": 10, "d_loss_min": 1.0, "d_loss_max": 1.001, "d_loss_sum": 10.0}
    assert health.assess(seen(**flat))[0]["relative_range"] == pytest.approx(1e-3)
    assert health.assess(seen(**{**flat, "d_loss_max": 1.0011})) == []
    assert health.assess(seen(**{**flat, "d_steps": 9})) == []  # too few steps to tell
    # A loss moving about 0 (a Wasserstein critic) is not flat; a constant 0 is.
    assert health.relative_range(-0.01, 0.01, 0.0) == math.inf
    assert health.relative_range(0.0, 0.0, 0.0) == 0.0


def test_the_dead_run_trace_is_flat_and_no_committed_record_is():
    """The flat-loss rule on logged critic losses, with its margin both ways: the dead
    ring8 loss-sensitive seed 2 trace of the records before issue 22 (a fixture) is
    flat; no committed record's trace is, and each record's own health block agrees."""
    dead = json.loads((ROOT / "tests" / "fixtures" / "dead_run_losses.json").read_text())
    assert health.flat_trace(dead["losses"]["d_loss"]) and set(dead["losses"]["g_loss"]) == {0.0}
    records = sorted((ROOT / "results" / "runs").glob("*/*/seed*/record.json"))
    assert len(records) >= 182
    for path in records:
        record = json.loads(path.read_text())
        assert not health.flat_trace(record["losses"]["d_loss"]), path
        if "health" in record:  # the PacGAN records predate the block
            assert record["health"]["ok"] is True, path
