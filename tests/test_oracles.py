"""Oracles: one critic step and one generator step of every variant (losses and
parameter gradients, float64, to 1e-6) against objectives written here from the
papers' equations and the reference code's choices, not from ganbench.variants.

loss-sensitive has its own file (tests/test_oracle_loss_sensitive.py); the
trainer's part of a step (detached fakes, clipping, update) is in
tests/test_oracle_steps.py.
"""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganbench.variants import make_variant
from tests.oracles import (
    BATCH,
    check_critic_step,
    check_generator_step,
    check_paired_generator_step,
    image_setup,
    toy_setup,
)


def scores(critic, real, fake):
    """D(x), D(G(z)) in the order every loss here calls them (real first), on a copy."""
    critic = copy.deepcopy(critic)
    with torch.no_grad():
        return critic(real), critic(fake)


def bce(logits, label):
    """Binary cross-entropy with a constant label: pytorch/examples dcgan/main.py's
    criterion (nn.BCELoss on sigmoid outputs), written on logits."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, label))


# --- vanilla and vanilla-mm (Goodfellow et al. 2014; pytorch/examples dcgan/main.py) ----------------

def vanilla_d(critic, real, fake):
    """main.py: errD_real = BCE(D(x), 1), errD_fake = BCE(D(G(z)), 0), errD = their sum."""
    return bce(critic(real), 1.0) + bce(critic(fake), 0.0)


@pytest.mark.parametrize("name, g_expected", [
    # main.py's generator: BCE(D(G(z)), real label) = mean -log sigmoid(D(G(z))), non-saturating
    ("vanilla", lambda s: bce(s, 1.0)),
    # Eq. 1's minimax generator: mean log(1 - sigmoid(D(G(z)))) = -BCE(D(G(z)), fake label)
    ("vanilla-mm", lambda s: -bce(s, 0.0)),
])
def test_vanilla_oracles(name, g_expected):
    generator, critic, real, z = toy_setup()
    variant = make_variant(name)
    check_critic_step(variant, vanilla_d, generator, critic, real, z)
    check_generator_step(variant, g_expected, generator, critic, z)


# --- wgan (Arjovsky et al. 2017; martinarjovsky/WassersteinGAN main.py) --------------------------

def test_wgan_oracle():
    """Critic: mean D(G(z)) - mean D(x) (main.py minimises errD_real - errD_fake with
    the critic negated, the same game); G: -mean D(G(z))."""
    generator, critic, real, z = toy_setup()
    variant = make_variant("wgan")
    check_critic_step(variant, lambda c, x, f: c(f).mean() - c(x).mean(), generator, critic, real, z)
    check_generator_step(variant, lambda s: -s.mean(), generator, critic, z)


def test_wgan_clips_every_critic_parameter_to_c():
    """main.py: ``for p in netD.parameters(): p.data.clamp_(-0.01, 0.01)``: every
    parameter (batch-norm scale and shift too), no buffer (running statistics)."""
    _, critic, real, _ = image_setup(norm="batch")
    critic(real)  # running statistics away from their init, so "left alone" is visible
    before_params = [p.detach().clone() for p in critic.parameters()]
    before_buffers = [b.clone() for b in critic.buffers()]
    make_variant("wgan").before_d_step(critic)  # main.py clamps before each critic step
    assert any((p.abs() > 0.01).any() for p in before_params)  # the clip has work to do
    for p, was in zip(critic.parameters(), before_params):
        assert torch.equal(p.detach(), torch.clamp(was, -0.01, 0.01))
    assert any((b.abs() > 0.01).any() for b in before_buffers if b.is_floating_point())
    for b, was in zip(critic.buffers(), before_buffers):
        assert torch.equal(b, was)


# --- wgan-gp (Gulrajani et al. 2017; igul222/improved_wgan_training gan_toy.py, gan_mnist.py) -----

def wgan_gp_d(lam):
    """Algorithm 1 as gan_toy.py / gan_mnist.py write it: alpha ~ U[0, 1] per sample,
    interpolates = real + alpha (fake - real), slopes = sqrt(sum over all of a
    sample's dimensions of grad^2), penalty = lambda * mean (slopes - 1)^2."""
    def loss(critic, real, fake):
        wasserstein = critic(fake).mean() - critic(real).mean()
        # one uniform per sample, torch's default dtype (float32), as ganbench draws it:
        # the same stream position gives the same numbers
        alpha = torch.rand(real.shape[0]).to(real.dtype).view(-1, *([1] * (real.dim() - 1)))
        x_hat = (real + alpha * (fake - real)).requires_grad_(True)
        (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        slopes = grad.reshape(grad.shape[0], -1).pow(2).sum(dim=1).sqrt()
        return wasserstein + lam * ((slopes - 1.0) ** 2).mean()
    return loss


@pytest.mark.parametrize("lam", [10.0, 0.1])  # the paper's lambda; the toy benchmarks' option
def test_wgan_gp_oracle_on_points(lam):
    generator, critic, real, z = toy_setup()
    variant = make_variant("wgan-gp", gp_weight=lam)
    check_critic_step(variant, wgan_gp_d(lam), generator, critic, real, z)
    check_generator_step(variant, lambda s: -s.mean(), generator, critic, z)


def test_wgan_gp_oracle_on_images():
    """(B, C, H, W): the slope is the norm over C, H and W together (gan_mnist.py
    flattens the image to 784 before the critic)."""
    generator, critic, real, z = image_setup(norm="layer")
    variant = make_variant("wgan-gp")
    check_critic_step(variant, wgan_gp_d(10.0), generator, critic, real, z)
    check_generator_step(variant, lambda s: -s.mean(), generator, critic, z)


# --- hinge (Lim & Ye 2017; Miyato et al. 2018 Eq. 16-17; pfnet-research/sngan_projection updater.py) --

def test_hinge_oracle_with_spectral_norm():
    """updater.py loss_hinge_dis: mean relu(1 - D(x)) + mean relu(1 + D(G(z)));
    loss_gen: -mean D(G(z)); the critic spectrally normalised (one power iteration
    per forward pass, real batch first)."""
    generator, critic, real, z = toy_setup(spectral=True, real_scale=20.0, fake_scale=40.0)
    variant = make_variant("hinge")
    assert variant.defaults.d_norm == "spectral"
    fake = check_critic_step(variant, lambda c, x, f: F.relu(1 - c(x)).mean() + F.relu(1 + c(f)).mean(),
                             generator, critic, real, z)
    check_generator_step(variant, lambda s: -s.mean(), generator, critic, z)
    d_real, d_fake = scores(critic, real, fake)
    # the fixture covers both sides of both hinges, so a moved ReLU changes the answer
    assert (d_real > 1).any() and (d_real < 1).any(), d_real
    assert (d_fake < -1).any() and (d_fake > -1).any(), d_fake


# --- lsgan (Mao et al. 2017, Eq. 2 with the codings of Eq. 8 and 9) -------------------------------

@pytest.mark.parametrize("coding, a, b, c", [("0-1", 0.0, 1.0, 1.0), ("-1-1-0", -1.0, 1.0, 0.0)])
def test_lsgan_oracle(coding, a, b, c):
    """D: 1/2 mean (D(x) - b)^2 + 1/2 mean (D(G(z)) - a)^2;  G: 1/2 mean (D(G(z)) - c)^2."""
    generator, critic, real, z = toy_setup()
    variant = make_variant("lsgan", coding=coding)
    check_critic_step(variant, lambda d, x, f: 0.5 * F.mse_loss(d(x), torch.full((BATCH,), b, dtype=x.dtype))
                      + 0.5 * F.mse_loss(d(f), torch.full((BATCH,), a, dtype=x.dtype)), generator, critic, real, z)
    check_generator_step(variant, lambda s: 0.5 * ((s - c) ** 2).mean(), generator, critic, z)


# --- r3gan (Huang et al. 2024, Eq. 2 and Sec. 2.3; brownvc/R3GAN@19a7ddf R3GAN/Trainer.py) ---------

def r3gan_d(gamma):
    """The critic minimises -log sigmoid(D(x_i) - D(G(z_i))) + gamma/2 (||grad D(x_i)||^2 +
    ||grad D(G(z_i))||^2), averaged over the pairs; each squared norm over all of a
    sample's dimensions, of the gradient of the summed logits (Trainer.py l.10-12, 28-42)."""
    def loss(critic, real, fake):
        x, y = real.clone().requires_grad_(True), fake.clone().requires_grad_(True)
        d_x, d_y = critic(x), critic(y)
        (g_x,) = torch.autograd.grad(d_x.sum(), x, create_graph=True)
        (g_y,) = torch.autograd.grad(d_y.sum(), y, create_graph=True)
        r1 = (g_x ** 2).reshape(len(x), -1).sum(dim=1)
        r2 = (g_y ** 2).reshape(len(y), -1).sum(dim=1)
        return (-F.logsigmoid(d_x - d_y) + gamma / 2 * (r1 + r2)).mean()
    return loss


def r3gan_g(critic, fake, real):
    """The generator minimises -log sigmoid(D(G(z_i)) - D(x_i)) on its own real batch (Trainer.py l.14-24)."""
    return -F.logsigmoid(critic(fake) - critic(real)).mean()


@pytest.mark.parametrize("gamma", [0.05, 10.0])  # the CIFAR10 preset's; one where the penalty dominates
def test_r3gan_oracle_on_points(gamma):
    generator, critic, real, z = toy_setup()
    variant = make_variant("r3gan", gamma=gamma)
    check_critic_step(variant, r3gan_d(gamma), generator, critic, real, z)
    check_paired_generator_step(variant, r3gan_g, generator, critic, z, real.flip(0))


def test_r3gan_oracle_on_images():
    """(B, C, H, W): R1 and R2 sum over C, H and W (Trainer.py l.12: sum([1, 2, 3]))."""
    generator, critic, real, z = image_setup(norm="none")
    variant = make_variant("r3gan", gamma=2.0)
    check_critic_step(variant, r3gan_d(2.0), generator, critic, real, z)
    check_paired_generator_step(variant, r3gan_g, generator, critic, z, real)
