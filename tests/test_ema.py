"""The generator's EMA (ganbench/training/ema.py): the schedule's known values,
the update's known answer, buffers copied, and scoring on the EMA weights.
Resume with EMA on is in tests/test_kill_resume.py."""

import math

import pytest
import torch

from ganbench.config.run import Budget, RunConfig
from ganbench.core.errors import ConfigError
from ganbench.core.io import safe_torch_load
from ganbench.models import MlpGenerator
from ganbench.training.ema import GeneratorEma, decay_at, half_life_at


def test_half_life_follows_r3gans_cosine_ramp():
    """training_loop.py l.29-38 with base 0: final * (1 - cos(pi t / T)) / 2, then final."""
    assert half_life_at(0, 5e6, 2e7) == 0.0
    assert half_life_at(1e7, 5e6, 2e7) == pytest.approx(2.5e6)
    assert half_life_at(5e6, 5e6, 2e7) == pytest.approx(5e6 * (1 - math.cos(math.pi / 4)) / 2)
    assert half_life_at(3e7, 5e6, 2e7) == half_life_at(2e7, 5e6, 2e7) == 5e6
    assert half_life_at(123, 1000.0, 0.0) == 1000.0  # no ramp: constant


def test_decay_is_half_per_half_life():
    assert decay_at(0, 64, 640.0, 0.0) == pytest.approx(0.5 ** 0.1)
    assert decay_at(0, 64, 5e6, 2e7) == 0.0  # the ramp starts at 0: the first step copies G (l.351)
    # d = 0.999 at 64 samples per step is a half-life of 64 ln 2 / -ln 0.999 (the docstring's conversion)
    assert decay_at(0, 64, 64 * math.log(2) / -math.log(0.999), 0.0) == pytest.approx(0.999)


def generator():
    torch.manual_seed(0)
    return MlpGenerator(z_dim=2, width=4, depth=1, batch_norm=True)


def test_constant_weights_stay_put():
    g = generator()
    ema = GeneratorEma(g, half_life=100.0, ramp=0.0, per_step=10)
    for step in range(5):
        ema.update(g, step)
    for a, b in zip(ema.module.state_dict().values(), g.state_dict().values()):
        assert torch.equal(a, b)


def test_one_update_is_d_w0_plus_1_minus_d_w1_and_buffers_are_copied():
    g = generator()
    w0 = [p.detach().clone() for p in g.parameters()]
    ema = GeneratorEma(g, half_life=30.0, ramp=0.0, per_step=10)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p))
    g(torch.randn(16, 2))  # batch norm's running statistics move
    ema.update(g, 0)
    d = 0.5 ** (10 / 30)
    for mine, before, after in zip(ema.module.parameters(), w0, g.parameters()):
        assert torch.allclose(mine, d * before + (1 - d) * after, rtol=0, atol=1e-6)
    buffers = list(g.buffers())
    assert any(b.is_floating_point() and not torch.equal(b, torch.zeros_like(b)) for b in buffers)
    for mine, theirs in zip(ema.module.buffers(), buffers):
        assert torch.equal(mine, theirs)  # copied, not averaged (training_loop.py l.354-355)


def test_negative_half_life_is_refused_by_name():
    with pytest.raises(ConfigError, match="ema_half_life must be a finite number >= 0"):
        RunConfig("vanilla", "ring8", 0, Budget.parse("1e9flops"), ema_half_life=-1.0)


def test_snapshots_and_samples_are_the_ema_and_the_record_says_so(tmp_path):
    import numpy as np

    from ganbench.training.samples import POINT_SAMPLES, generate_for
    from ganbench.training.trainer import train

    cfg = RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=6), batch_size=16,
                    snapshot_fractions=(0.5, 1.0), ema_half_life=64.0, ema_ramp=0.0)
    record = train(cfg, tmp_path)
    assert record["ema"] == {"half_life": 64.0, "ramp": 0.0, "samples_per_step": 16, "scored": True}
    checkpoint = safe_torch_load(tmp_path / "checkpoint.pt")
    snapshot = safe_torch_load(tmp_path / record["snapshots"][-1]["path"])
    ema, raw = checkpoint["generator_ema"], checkpoint["generator"]
    assert all(torch.equal(snapshot[k], ema[k]) for k in ema)
    assert any(not torch.equal(ema[k], raw[k]) for k in ema if ema[k].is_floating_point())
    scored = MlpGenerator(z_dim=2, width=128)
    scored.load_state_dict(ema)
    want = generate_for(scored, POINT_SAMPLES, record_config(record)).numpy().astype(np.float32)
    assert np.array_equal(np.load(tmp_path / record["samples"]), want)


def test_ema_is_off_unless_asked(tmp_path):
    from ganbench.training.trainer import train

    cfg = RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=2), batch_size=16,
                    snapshot_fractions=(1.0,))
    record = train(cfg, tmp_path)
    assert record["ema"] is None and record["config"]["ema_half_life"] == 0.0
    assert "generator_ema" not in safe_torch_load(tmp_path / "checkpoint.pt")
    snapshot = safe_torch_load(tmp_path / record["snapshots"][-1]["path"])
    raw = safe_torch_load(tmp_path / "checkpoint.pt")["generator"]
    assert all(torch.equal(snapshot[k], raw[k]) for k in raw)


def record_config(record):
    from ganbench.core.mapping import from_mapping

    return from_mapping(RunConfig, record["config"], "record")

