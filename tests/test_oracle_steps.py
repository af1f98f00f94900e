"""The trainer's part of a step, against updates written by hand: one
``train_iteration`` of a built run (fixed seed) moves every parameter as the
reference's loop would, and the critic sees a fake batch without the generator's
graph. The objectives themselves are checked in tests/test_oracles.py.
"""

import copy

import pytest
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training.trainer import build_run, train_iteration

TOL = 1e-6


def toy_run(variant, **options):
    data = load_dataset("ring8", "train")
    config = RunConfig(variant=variant, dataset="ring8", seed=0, budget=Budget.parse("1e9flops"),
                       batch_size=8, width=8, variant_options=options)
    return build_run(resolve(config, data.info.kind), data)


def rmsprop_first_step(p, g, lr):
    """torch's RMSprop (alpha 0.99, eps 1e-8) from a zero square average:
    v = 0.01 g^2, p - lr g / (sqrt(v) + eps)."""
    return p - lr * g / ((0.01 * g * g).sqrt() + 1e-8)


def adam_first_step(p, g, lr):
    """Adam's first step: the bias-corrected moments are g and g^2, p - lr g / (|g| + eps)."""
    return p - lr * g / (g.abs() + 1e-8)


def hand_iteration(run, seed, d_loss, g_loss, step, after_d=lambda p: p, before_d=lambda p: p):
    """One critic step then one generator step on copies of the run's networks, with
    the trainer's draws in its order (real indices, critic-step z, generator-step z);
    returns the updated (critic, generator) parameters."""
    critic, generator = copy.deepcopy(run.critic), copy.deepcopy(run.generator)
    cfg = run.config
    torch.manual_seed(seed)
    real = run.data.data[torch.randint(len(run.data), (cfg.batch_size,))]
    with torch.no_grad():
        fake = generator(torch.randn(cfg.batch_size, cfg.z_dim))
    params = list(critic.parameters())
    with torch.no_grad():
        for p in params:
            p.copy_(before_d(p))
    grads = torch.autograd.grad(d_loss(critic, real, fake), params)
    with torch.no_grad():
        for p, g in zip(params, grads):
            p.copy_(after_d(step(p, g, cfg.lr_d or cfg.lr)))
    g_params = list(generator.parameters())
    g_grads = torch.autograd.grad(g_loss(critic(generator(torch.randn(cfg.batch_size, cfg.z_dim)))), g_params)
    with torch.no_grad():
        for p, g in zip(g_params, g_grads):
            p.copy_(step(p, g, cfg.lr_g or cfg.lr))
    return params, g_params


def assert_updates_match(run, seed, expected):
    torch.manual_seed(seed)
    train_iteration(run, 1)
    for role, got, want in (("critic", run.critic.parameters(), expected[0]),
                            ("generator", run.generator.parameters(), expected[1])):
        for i, (p, w) in enumerate(zip(got, want)):
            err = (p.detach() - w).abs().max().item()
            assert err <= TOL, f"{role} parameter {i} after one iteration differs from the hand update by {err:.3g}"


def test_wgan_iteration_is_clamp_then_rmsprop_then_generator_step():
    """martinarjovsky/WassersteinGAN main.py: every critic parameter clamped to
    [-0.01, 0.01] before the critic step (l.185-186), RMSprop(5e-5) on D(G(z)) - D(x)
    (sign flipped there); G: RMSprop on -D(G(z)), against the unclamped update."""
    run = toy_run("wgan")
    assert run.config.lr == pytest.approx(5e-5)
    expected = hand_iteration(run, 7, lambda c, x, f: c(f).mean() - c(x).mean(), lambda s: -s.mean(),
                              rmsprop_first_step, before_d=lambda p: p.clamp(-0.01, 0.01))
    assert_updates_match(run, 7, expected)


def test_wgan_algorithm_1_option_clips_after_the_update():
    run = toy_run("wgan", clip_before_step=False)
    expected = hand_iteration(run, 7, lambda c, x, f: c(f).mean() - c(x).mean(), lambda s: -s.mean(),
                              rmsprop_first_step, after_d=lambda p: p.clamp(-0.01, 0.01))
    assert_updates_match(run, 7, expected)


def test_wgan_gp_iteration_draws_the_interpolates_inside_the_step():
    """Adam(1e-4, (0.5, 0.9)) on the penalised critic loss, alpha drawn after the
    batches (igul222 gan_toy.py); lambda 0.1 as the toy benchmarks set it."""
    run = toy_run("wgan-gp", gp_weight=0.1)

    def d_loss(critic, real, fake):
        alpha = torch.rand(len(real), 1)
        x_hat = (real + alpha * (fake - real)).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return critic(fake).mean() - critic(real).mean() + 0.1 * ((grad.pow(2).sum(1).sqrt() - 1) ** 2).mean()

    expected = hand_iteration(run, 3, d_loss, lambda s: -s.mean(),
                              adam_first_step)
    assert_updates_match(run, 3, expected)


@pytest.mark.parametrize("variant", ["vanilla", "wgan-gp", "hinge"])
def test_critic_gets_fakes_without_the_generator_graph(variant):
    """pytorch/examples dcgan main.py: ``netD(fake.detach())`` in the critic step and
    the graph kept for the generator step."""
    run = toy_run(variant)
    seen = {"d": [], "g": []}
    d_loss, g_loss = run.variant.d_loss, run.variant.g_loss
    run.variant.d_loss = lambda c, real, fake: seen["d"].append(fake.requires_grad) or d_loss(c, real, fake)
    run.variant.g_loss = lambda c, fake: seen["g"].append(fake.requires_grad) or g_loss(c, fake)
    train_iteration(run, 2)
    assert seen == {"d": [False, False], "g": [True]}
