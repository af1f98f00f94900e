"""The gradient penalty's interpolation, with a critic whose gradient depends on
the point: D(x) = ½‖x‖², so ∇D(x̂) = x̂ and the penalty is E[(‖x̂‖ - 1)²].

A linear critic has the same gradient everywhere and cannot tell x̂ = real,
x̂ = fake or one mixing weight per batch from the right interpolate; this one
can. The mixing weights are recomputed here from the same RNG state, one per
sample, uniform on [0, 1) (Gulrajani et al. 2017, Algorithm 1, line 5).
"""

import pytest
import torch

from ganbench.variants import make_variant
from ganbench.variants.base import gradient_norm, gradient_penalty


def half_square_norm(x):
    return 0.5 * x.flatten(1).pow(2).sum(dim=1)


def expected_interpolate(real, fake, seed):
    """x̂_i = x_i + α_i (G(z_i) - x_i), α_i drawn in the same order as the code under test."""
    torch.manual_seed(seed)
    alpha = torch.rand(real.shape[0])
    return real + alpha.view(-1, *([1] * (real.dim() - 1))) * (fake - real)


@pytest.mark.parametrize("shape", [(16, 2), (8, 1, 5, 5)], ids=["points", "images"])
def test_gradient_penalty_is_taken_at_per_sample_interpolates(shape):
    gen = torch.Generator().manual_seed(1)
    real, fake = torch.randn(shape, generator=gen), 3 * torch.randn(shape, generator=gen)
    x_hat = expected_interpolate(real, fake, seed=7)
    want = ((x_hat.flatten(1).norm(dim=1) - 1) ** 2).mean()
    torch.manual_seed(7)
    got = gradient_penalty(half_square_norm, real, fake)
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    # The wrong interpolates all give other values on this critic.
    for wrong in (real, fake, real + torch.rand(1).item() * (fake - real)):
        assert ((wrong.flatten(1).norm(dim=1) - 1) ** 2).mean().item() != pytest.approx(want.item(), rel=1e-3)


def test_gradient_norm_is_the_point_for_the_half_square_critic():
    x = torch.randn(5, 3).requires_grad_(True)
    assert torch.allclose(gradient_norm(half_square_norm, x), x.detach().norm(dim=1))


def test_wgan_gp_critic_loss_uses_the_interpolates():
    gen = torch.Generator().manual_seed(2)
    real, fake = torch.randn(32, 2, generator=gen), torch.randn(32, 2, generator=gen) + 2
    x_hat = expected_interpolate(real, fake, seed=3)
    want = half_square_norm(fake).mean() - half_square_norm(real).mean() + 10 * ((x_hat.norm(dim=1) - 1) ** 2).mean()
    torch.manual_seed(3)
    got = make_variant("wgan-gp").d_loss(half_square_norm, real, fake)
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
