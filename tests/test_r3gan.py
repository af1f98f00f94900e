"""R3GAN's objective (ganbench/variants/r3gan.py): known answers for the RpGAN
loss and the R1 / R2 penalties, its reference constants, and the generator
step's fresh real batch. The one-step oracle is in tests/test_oracles.py."""

import math

import pytest
import torch
from torch import nn

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.variants import VARIANTS, make_variant
from ganbench.variants.r3gan import penalised_scores


def linear_critic(weight, bias=0.5):
    """D(x) = w . x + b on flattened samples: grad_x D = w everywhere, so R1 = R2 = ||w||^2."""
    layer = nn.Linear(len(weight), 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([weight], dtype=torch.float64))
        layer.bias.fill_(bias)
    return nn.Sequential(nn.Flatten(), layer)


def test_equal_logits_cost_log_2_on_both_sides():
    v = make_variant("r3gan")
    s = torch.tensor([-3.0, 0.0, 2.5])
    assert v.d_objective(s, s).item() == pytest.approx(math.log(2))
    assert v.g_pair_objective(s, s).item() == pytest.approx(math.log(2))


def test_rpgan_is_softplus_of_the_paired_differences():
    """Pairs, not batch means: softplus(-(D(x_i) - D(G(z_i)))) averaged over i."""
    v = make_variant("r3gan")
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 1.0])
    sp = lambda t: math.log1p(math.exp(t))  # noqa: E731
    assert v.d_objective(real, fake).item() == pytest.approx((sp(-2.0) + sp(1.0)) / 2)
    assert v.g_pair_objective(fake, real).item() == pytest.approx((sp(2.0) + sp(-1.0)) / 2)
    # a relativistic pairing: shifting every score by a constant changes nothing
    assert v.d_objective(real + 7, fake + 7).item() == pytest.approx(v.d_objective(real, fake).item())


@pytest.mark.parametrize("gamma", [0.05, 2.0])
def test_linear_critic_penalties_are_the_squared_weight_norm(gamma):
    w = [3.0, -4.0]
    critic = linear_critic(w)
    real = torch.tensor([[1.0, 2.0], [0.5, -1.0], [0.0, 0.0]], dtype=torch.float64)
    fake = torch.tensor([[0.0, 1.0], [2.0, 2.0], [-1.0, 1.0]], dtype=torch.float64)
    scores, r1 = penalised_scores(critic, real)
    assert torch.equal(r1, torch.full((3,), 25.0, dtype=torch.float64))
    assert torch.allclose(scores, real @ torch.tensor(w, dtype=torch.float64) + 0.5)
    adversarial = torch.nn.functional.softplus(-(real - fake) @ torch.tensor(w, dtype=torch.float64)).mean()
    loss = make_variant("r3gan", gamma=gamma).d_loss(critic, real, fake)
    assert loss.item() == pytest.approx(adversarial.item() + gamma / 2 * (25.0 + 25.0), rel=1e-12)


def test_image_penalty_sums_over_channels_and_pixels():
    """R3GAN/Trainer.py l.12: square().sum([1, 2, 3]); a linear critic on 2x2x2 images."""
    w = [1.0, -2.0, 0.5, 0.0, 3.0, 1.0, -1.0, 2.0]
    _, r1 = penalised_scores(linear_critic(w), torch.rand(4, 2, 2, 2, dtype=torch.float64))
    assert torch.allclose(r1, torch.full((4,), sum(x * x for x in w), dtype=torch.float64))


def test_penalty_trains_the_critic():
    """The penalty keeps its graph: its gradient w.r.t. w is gamma/2 * 2 * 2w (R1 + R2)."""
    critic = linear_critic([3.0, -4.0])
    x = torch.zeros(2, 2, dtype=torch.float64)  # equal pairs: the RpGAN term's gradient is 0
    make_variant("r3gan", gamma=0.1).d_loss(critic, x, x).backward()
    assert torch.allclose(critic[1].weight.grad, 0.1 / 2 * 2 * 2 * torch.tensor([[3.0, -4.0]], dtype=torch.float64))


def test_generator_step_draws_a_fresh_real_batch_and_scores_fakes_first():
    v = make_variant("r3gan")
    seen = []
    critic = lambda x: seen.append(x) or x.sum(dim=1)  # noqa: E731
    fake = torch.ones(3, 2, requires_grad=True)
    real = torch.zeros(3, 2, requires_grad=True)
    loss = v.g_step_loss(critic, fake, lambda: real)
    assert seen[0] is fake and not seen[1].requires_grad  # fakes first; no gradient through the reals
    assert loss.item() == pytest.approx(math.log1p(math.exp(-2.0)))
    with pytest.raises(ConfigError, match="needs a real batch"):
        v.g_loss(critic, fake)


def test_defaults_are_the_cifar10_preset():
    cls = VARIANTS.get("r3gan")
    d = cls.defaults
    assert (d.n_critic, d.lr, d.betas, d.d_norm) == (1, 2e-4, (0.0, 0.9), "none")
    assert (d.ema_half_life, d.ema_ramp) == (5e6, 2e7)
    assert make_variant("r3gan").options.gamma == 0.05
    assert "brownvc/R3GAN@19a7ddf train.py:159-160,178-196" in d.source
    assert cls.preset("ffhq-64").options == {"gamma": 2.0}
    cfg = resolve(RunConfig("r3gan", "ring8", 0, Budget.parse("1e9flops"), preset="imagenet-32"), "points")
    assert (cfg.ema_half_life, cfg.ema_ramp, cfg.variant_options) == (5e7, 2e8, {"gamma": 0.5})
    # every other variant keeps no EMA unless asked
    assert resolve(RunConfig("vanilla", "ring8", 0, Budget.parse("1e9flops")), "points").ema_half_life == 0.0


def test_training_draws_one_real_batch_per_critic_and_generator_step(tmp_path):
    """images_seen counts real + fake in both steps; fixed packs resume past both draws."""
    from ganbench.datasets import load_dataset
    from ganbench.training.budget import Spent
    from ganbench.training.packs import batches_drawn
    from ganbench.training.trainer import build_run, train, train_iteration

    cfg = RunConfig("r3gan", "ring8", 0, Budget.parse("1e12flops", max_g_steps=3), batch_size=8,
                    real_packs="fixed", snapshot_fractions=(1.0,))
    record = train(cfg, tmp_path)
    assert record["spent"]["images_seen"] == 3 * 8 * (2 + 2)
    data = load_dataset("ring8", "train")
    run = build_run(resolve(cfg, "points"), data)
    train_iteration(run)
    assert run.fixed_packs.drawn == 2 == batches_drawn(run, Spent(d_steps=1, g_steps=1))
