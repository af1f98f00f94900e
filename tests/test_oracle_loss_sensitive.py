"""Oracle for loss-sensitive GAN (Qi 2017, arXiv 1701.06264, Eq. 7-8): one critic
step and one generator step (losses and parameter gradients, float64, to 1e-6)
against the objective of the authors' maintained PyTorch code,
maple-research-lab/glsgan-gp ``lsgan-gp.py`` at commit a135b0e, written here
from that file's equations, not from ganbench.variants:

* L = the critic's raw output (its netD ends in a convolution, no ReLU);
  option ``loss_output="relu"``: L = relu(score), as the paper's Torch code.
* Delta_i = lamb * ||x_i - G(z_i)||_1 (``nn.PairwiseDistance(1)`` times ``opt.lamb``
  = 2e-4), over all of a pair's dimensions; it depends on no parameter.
* D: mean_i c(Delta_i + L(x_i) - L(G(z_i))), c = ``nn.LeakyReLU(opt.slope)``
  (slope 0: the paper's hinge), + gamma * mean L(x) (the paper's Eq. 7 term,
  0 by default), + gp_weight * mean ||grad_x L(x)||_2 at the REAL batch,
  the norm over dim 1 (``get_direct_gradient_penalty``, l.153-165: no square,
  no "- 1"; for (B, C, H, W) images a per-pixel norm over channels, averaged
  over B, H and W).
* G: mean L(G(z)).
* ``lipschitz="finite-difference"``: glsgan-gp's earlier ``calc_gradient_penalty2``:
  x_k = a_k x + (1 - a_k) G(z), two scalars a_1, a_2 ~ U[0, 1] per batch,
  gp_weight * mean_i (|L(x1_i) - L(x2_i)| / ||x1_i - x2_i||_2 - 1)^2. The
  reference draws a_k with Python's ``random.uniform``; here both sides draw
  ``a1, a2 = torch.rand(2)`` after the same seed. ``"finite-difference-slope"``:
  gp_weight * mean_i |L(x1_i) - L(x2_i)| / ||x1_i - x2_i||_2.
"""

import copy

import pytest
import torch
import torch.nn.functional as F

from ganbench.variants import make_variant
from tests.oracles import check_critic_step, check_generator_step, image_setup, toy_setup

# The spec's defaults, restated here so a changed default in ganbench fails the test.
SPEC = {"loss_output": "raw", "slope": 0.0, "margin_scale": 2e-4, "gamma": 0.0,
        "lipschitz": "gradient-at-real", "gp_weight": 10.0}


def spec(options: dict) -> dict:
    return {**SPEC, **options}


def loss_fn(o):
    """L(x) from raw scores."""
    return (lambda s: F.relu(s)) if o["loss_output"] == "relu" else (lambda s: s)


def penalty(o, critic, real, fake):
    """The Lipschitz term of the critic loss (0 for weight decay)."""
    L = loss_fn(o)
    if o["lipschitz"] == "gradient-at-real":
        x = real.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(L(critic(x)).sum(), x, create_graph=True)
        # torch's norm as lsgan-gp.py calls it (``gradient.norm(2, dim=1)``): its derivative
        # at a zero gradient is 0, where sqrt(sum of squares) gives NaN, and with
        # loss_output "relu" every real sample scored below 0 has a zero gradient
        return o["gp_weight"] * torch.linalg.vector_norm(grad, dim=1).mean()
    if o["lipschitz"] in ("finite-difference", "finite-difference-slope"):
        a1, a2 = torch.rand(2).to(real.dtype)
        x1, x2 = a1 * real + (1 - a1) * fake, a2 * real + (1 - a2) * fake
        ratio = (L(critic(x1)) - L(critic(x2))).abs() / (x1 - x2).reshape(len(x1), -1).pow(2).sum(dim=1).sqrt()
        per_pair = (ratio - 1) ** 2 if o["lipschitz"] == "finite-difference" else ratio
        return o["gp_weight"] * per_pair.mean()
    assert o["lipschitz"] == "weight-decay"
    return torch.zeros((), dtype=real.dtype)


def ls_d(options):
    o = spec(options)
    L = loss_fn(o)

    def d_loss(critic, real, fake):
        l_real, l_fake = L(critic(real)), L(critic(fake))
        delta = o["margin_scale"] * (real - fake).abs().reshape(len(real), -1).sum(dim=1)
        hinge = F.leaky_relu(delta + l_real - l_fake, negative_slope=o["slope"]).mean()
        return hinge + o["gamma"] * l_real.mean() + penalty(o, critic, real, fake)
    return d_loss


def ls_g(options):
    L = loss_fn(spec(options))
    return lambda fake_scores: L(fake_scores).mean()


CASES = [{}, {"loss_output": "relu"}, {"slope": 0.2}, {"gamma": 0.1}, {"margin_scale": 0.05},
         {"gp_weight": 0.1}, {"lipschitz": "finite-difference"}, {"lipschitz": "finite-difference-slope"},
         {"lipschitz": "weight-decay", "weight_decay": 1e-3}]


@pytest.mark.parametrize("options", CASES, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_loss_sensitive_oracle_on_points(options):
    generator, critic, real, z = toy_setup(5, fake_scale=5.0)  # (seed, spread): see the fixture check below
    variant = make_variant("loss-sensitive", **options)
    fake = check_critic_step(variant, ls_d(options), generator, critic, real, z)
    check_generator_step(variant, ls_g(options), generator, critic, z)
    # the fixture puts pairs on both sides of the hinge and scores on both sides of 0,
    # so a moved ReLU, a lost slope or a relu output changes the answer
    with torch.no_grad():
        critic = copy.deepcopy(critic)
        s_real, s_fake = critic(real), critic(fake)
    gap = 2e-4 * (real - fake).abs().sum(dim=1) + s_real - s_fake
    assert (gap > 0).any() and (gap < 0).any(), gap
    assert (s_real < 0).any() and (s_real > 0).any() and (s_fake < 0).any() and (s_fake > 0).any()


@pytest.mark.parametrize("options", [{}, {"lipschitz": "finite-difference"}], ids=["default", "finite-difference"])
def test_loss_sensitive_oracle_on_images(options):
    """(B, C, H, W): the margin sums |x - G(z)| over C, H and W; the default penalty
    is the norm over channels per pixel, averaged over B, H, W; the finite
    difference divides by the distance over all of a pair's dimensions."""
    generator, critic, real, z = image_setup(norm="none")
    variant = make_variant("loss-sensitive", **options)
    check_critic_step(variant, ls_d(options), generator, critic, real, z)
    check_generator_step(variant, ls_g(options), generator, critic, z)


def test_loss_sensitive_defaults_and_weight_decay():
    """No critic normalisation (the penalty is per sample; lsgan-gp.py's netD has none);
    weight decay on the critic only where ``lipschitz="weight-decay"`` asks for it."""
    assert make_variant("loss-sensitive").defaults.d_norm == "none"
    assert make_variant("loss-sensitive").weight_decay("critic") == 0.0
    assert make_variant("loss-sensitive", lipschitz="weight-decay", weight_decay=1e-3).weight_decay("critic") == 1e-3
