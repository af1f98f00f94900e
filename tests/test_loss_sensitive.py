"""Loss-sensitive GAN: a margin a unit-slope L can meet at any dimension, the
references' L, weight decay on both networks, and compile with a twice-differentiated critic."""

import math

import pytest
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training.trainer import build_run, train
from ganbench.variants import make_variant

REFERENCE_L1 = 0.0002  # lsgan.lua / lsgan-gp.py lambda, on the L1 distance of 64x64x3 images


def best_unit_slope_scores(real, fake):
    """The scores of the 1-Lipschitz L(x) = ||x - x_i||_2 on pair i: the largest
    L(G(z_i)) - L(x_i) any unit-slope L can reach."""
    return torch.zeros(len(real)), (fake - real).flatten(1).norm(2, dim=1)


@pytest.mark.parametrize("shape", [(2,), (3, 64, 64)], ids=["2-D", "64x64x3"])
def test_margin_can_be_met_under_a_unit_slope_critic(shape):
    torch.manual_seed(0)
    v = make_variant("loss-sensitive")
    real, fake = torch.rand(256, *shape) * 2 - 1, torch.rand(256, *shape) * 2 - 1
    real_s, fake_s = best_unit_slope_scores(real, fake)
    assert v.pair_objective(real_s, fake_s, v.margin(real, fake)).item() == 0.0
    # ... with the same room at every dimension: Delta / ||x - G(z)||_2 is the constant c.
    ratio = v.margin(real, fake) / (fake - real).flatten(1).norm(2, dim=1)
    assert torch.allclose(ratio, torch.full_like(ratio, v.options.margin_scale))


def test_old_per_dimension_margin_could_not_be_met_in_2d():
    """The defect this margin fixes: 2.4576 * mean|x - G(z)| exceeds ||x - G(z)||_2 in 2-D."""
    torch.manual_seed(0)
    real, fake = torch.rand(256, 2) * 2 - 1, torch.rand(256, 2) * 2 - 1
    old_margin = REFERENCE_L1 * 64 * 64 * 3 * (real - fake).abs().mean(dim=1)
    v = make_variant("loss-sensitive")
    assert v.pair_objective(*best_unit_slope_scores(real, fake), old_margin).item() > 0.5


def test_margin_reproduces_the_reference_at_64x64x3():
    """For Gaussian pixel differences at 64x64x3, Delta = c ||v||_2 equals lambda ||v||_1
    (the references' margin) to within sampling error."""
    torch.manual_seed(0)
    real, fake = torch.randn(64, 3, 64, 64) * 0.3, torch.randn(64, 3, 64, 64) * 0.3
    ours = make_variant("loss-sensitive").margin(real, fake)
    reference = REFERENCE_L1 * (real - fake).flatten(1).abs().sum(dim=1)
    assert torch.allclose(ours, reference, rtol=0.01)


def test_weight_decay_acts_on_both_optimisers():
    data = load_dataset("ring8", "train")
    config = RunConfig(variant="loss-sensitive", dataset="ring8", seed=0, budget=Budget.parse("1e9flops"),
                       width=16, variant_options={"lipschitz": "weight-decay"})
    run = build_run(resolve(config, data.info.kind), data)
    assert run.opt_d.param_groups[0]["weight_decay"] == run.opt_g.param_groups[0]["weight_decay"] == 5e-5


def test_double_backward_follows_the_lipschitz_option():
    assert make_variant("loss-sensitive", lipschitz="gradient-norm").double_backward is True
    assert make_variant("loss-sensitive").double_backward is False
    assert make_variant("loss-sensitive", lipschitz="weight-decay").double_backward is False


def test_gradient_norm_penalty_trains_with_compile(tmp_path):
    """torch.compile's AOTAutograd cannot double-backward: the critic must stay eager."""
    config = RunConfig(variant="loss-sensitive", dataset="ring8", seed=0, budget=Budget.parse("3e7flops"),
                       batch_size=16, width=16, snapshot_fractions=(1.0,), compile=True,
                       variant_options={"lipschitz": "gradient-norm"})
    r = train(config, tmp_path / "run")
    assert r["status"] == "finished" and r["spent"]["g_steps"] > 0
    assert all(math.isfinite(v) for v in r["losses"]["d_loss"] + r["losses"]["g_loss"])
