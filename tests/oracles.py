"""Shared machinery of the oracle tests (tests/test_oracles*.py): fixed float64
models and batches, and the comparison of one ganbench step with an expected
objective written independently in the test.

Only the networks are shared (they are the function D(x) / G(z)); every expected
loss is computed from the critic's outputs by the test itself, and its gradients
come from ``torch.autograd.grad`` of that loss.
"""

from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import Tensor, nn

from ganbench.models import DcganCritic, DcganGenerator, MlpCritic, MlpGenerator, with_spectral_norm

BATCH = 8
TOL = 1e-6  # absolute, on float64 losses and gradients


def toy_setup(seed: int = 0, *, spectral: bool = False, score_scale: float = 3.0, real_scale: float = 4.0,
              fake_scale: float = 1.0):
    """(generator, critic, real, z) for 2-D points, in float64.

    The critic's last layer is scaled so scores spread over roughly [-3, 3]: both
    sides of every hinge (1 - D, 1 + D, the margin's relu) then hold samples, so a
    moved or dropped ReLU changes the loss. With ``spectral`` the critic carries
    spectral norm (W / sigma(W) ignores the scale): ``real_scale`` and ``fake_scale``
    (the generator's output layer) then spread the batches instead.
    """
    torch.manual_seed(seed)
    generator = MlpGenerator(z_dim=2, width=8, depth=2).double()
    critic = MlpCritic(2, width=8, depth=2).double()
    with torch.no_grad():
        critic.net[-1].weight.mul_(score_scale)
        generator.net[-1].weight.mul_(fake_scale)
        generator.net[-1].bias.mul_(fake_scale)
    if spectral:
        with_spectral_norm(critic)
    real = real_scale * torch.randn(BATCH, 2, dtype=torch.float64)
    z = torch.randn(BATCH, 2, dtype=torch.float64)
    return generator, critic, real, z


def image_setup(seed: int = 0, *, norm: str = "none"):
    """(generator, critic, real, z) for 3-channel 16x16 images, in float64 (two critic
    layers, so the second carries ``norm``): the case where "the norm over a sample's
    dimensions" and "the norm over channels" differ."""
    torch.manual_seed(seed)
    generator = DcganGenerator(16, 3, width=4, z_dim=4).double()
    critic = DcganCritic(16, 3, width=4, norm=norm).double()
    real = torch.rand(BATCH, 3, 16, 16, dtype=torch.float64) * 2 - 1
    z = torch.randn(BATCH, 4, dtype=torch.float64)
    return generator, critic, real, z


def assert_same(actual: tuple[Tensor, list[Tensor]], expected: tuple[Tensor, list[Tensor]], what: str) -> None:
    """Loss and every gradient equal to TOL."""
    (loss, grads), (want, want_grads) = actual, expected
    assert abs(loss.item() - want.item()) <= TOL, f"{what}: loss {loss.item()!r} != expected {want.item()!r}"
    assert len(grads) == len(want_grads)
    for i, (g, w) in enumerate(zip(grads, want_grads)):
        err = (g - w).abs().max().item()
        assert err <= TOL, f"{what}: gradient of parameter {i} differs by {err:.3g} (max |expected| {w.abs().max():.3g})"


def loss_and_grads(loss_fn: Callable[[nn.Module], Tensor], module: nn.Module, seed: int,
                   wrt: Callable[[nn.Module], list[Tensor]]) -> tuple[Tensor, list[Tensor]]:
    """``loss_fn`` on a fresh copy of ``module`` (spectral norm's power-iteration
    vectors and batch-norm statistics start equal for both sides), torch seeded
    with ``seed`` so random draws line up; the loss and its gradients w.r.t. ``wrt``."""
    module = copy.deepcopy(module)
    torch.manual_seed(seed)
    loss = loss_fn(module)
    return loss.detach(), [g.detach() for g in torch.autograd.grad(loss, wrt(module))]


def check_critic_step(variant, expected: Callable[[nn.Module, Tensor, Tensor], Tensor],
                      generator: nn.Module, critic: nn.Module, real: Tensor, z: Tensor, seed: int = 1) -> Tensor:
    """ganbench's ``variant.d_loss`` against ``expected(critic, real, fake)``: the loss
    and its gradients w.r.t. every critic parameter, on one detached fake batch.
    Returns the fake batch (for checks on the fixture)."""
    fake = generator(z).detach()
    params = lambda c: list(c.parameters())  # noqa: E731
    actual = loss_and_grads(lambda c: variant.d_loss(c, real, fake), critic, seed, params)
    want = loss_and_grads(lambda c: expected(c, real, fake), critic, seed, params)
    assert_same(actual, want, f"{variant.name} critic step")
    return fake


def check_generator_step(variant, expected: Callable[[Tensor], Tensor],
                         generator: nn.Module, critic: nn.Module, z: Tensor) -> None:
    """ganbench's ``variant.g_loss(critic, G(z))`` against ``expected(critic(G(z)))``:
    the loss and its gradients w.r.t. every generator parameter."""
    def run(loss_fn):
        pair = copy.deepcopy(nn.ModuleList([generator, critic]))
        loss = loss_fn(pair[1], pair[0](z))
        return loss.detach(), [g.detach() for g in torch.autograd.grad(loss, list(pair[0].parameters()))]

    actual = run(lambda c, fake: variant.g_loss(c, fake))
    want = run(lambda c, fake: expected(c(fake)))
    assert_same(actual, want, f"{variant.name} generator step")


def check_paired_generator_step(variant, expected: Callable[[nn.Module, Tensor, Tensor], Tensor],
                                generator: nn.Module, critic: nn.Module, z: Tensor, real: Tensor) -> None:
    """As :func:`check_generator_step` for a loss that pairs G(z) with a real batch
    (``variant.g_step_loss``): against ``expected(critic, G(z), real)``."""
    def run(loss_fn):
        pair = copy.deepcopy(nn.ModuleList([generator, critic]))
        pair[1].requires_grad_(False)  # the trainer's generator step: critic frozen
        loss = loss_fn(pair[1], pair[0](z))
        return loss.detach(), [g.detach() for g in torch.autograd.grad(loss, list(pair[0].parameters()))]

    actual = run(lambda c, fake: variant.g_step_loss(c, fake, lambda: real))
    want = run(lambda c, fake: expected(c, fake, real))
    assert_same(actual, want, f"{variant.name} generator step")
