"""Known-answer tests for every variant's objective, on hand-made scores and tensors."""

import math
import re
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganbench.core.errors import ConfigError, UnknownNameError
from ganbench.variants import VARIANTS, Defaults, Variant, make_variant, register_variant
from ganbench.variants.base import gradient_penalty

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_vanilla_losses_match_log_sigmoid_by_hand():
    v = make_variant("vanilla")
    expected_d = -(math.log(sigmoid(2.0)) + math.log(sigmoid(-1.0))) / 2 - (
        math.log(1 - sigmoid(0.5)) + math.log(1 - sigmoid(-3.0))
    ) / 2
    expected_g = -(math.log(sigmoid(0.5)) + math.log(sigmoid(-3.0))) / 2
    assert v.d_objective(REAL, FAKE).item() == pytest.approx(expected_d, rel=1e-6)
    assert v.g_objective(FAKE).item() == pytest.approx(expected_g, rel=1e-6)


def test_vanilla_is_stable_at_huge_logits():
    v = make_variant("vanilla")
    loss = v.d_objective(torch.tensor([1000.0]), torch.tensor([-1000.0]))
    assert loss.item() == pytest.approx(0.0, abs=1e-6)


def test_minimax_generator_loss_is_log_one_minus_d():
    v = make_variant("vanilla-mm")
    expected = (math.log(1 - sigmoid(0.5)) + math.log(1 - sigmoid(-3.0))) / 2
    assert v.g_objective(FAKE).item() == pytest.approx(expected, rel=1e-6)
    assert v.d_objective(REAL, FAKE).item() == pytest.approx(make_variant("vanilla").d_objective(REAL, FAKE).item())


def test_minimax_saturates_where_non_saturating_does_not():
    """At D(G(z)) = -10 (D sure the sample is fake) the minimax gradient vanishes."""
    s = torch.tensor([-10.0], requires_grad=True)
    make_variant("vanilla-mm").g_objective(s).backward()
    mm_grad = abs(s.grad.item())
    s.grad = None
    make_variant("vanilla").g_objective(s).backward()
    assert mm_grad < 1e-4 < abs(s.grad.item())


def test_lsgan_01_coding():
    v = make_variant("lsgan")
    expected_d = 0.5 * ((1.0**2 + (-2.0) ** 2) / 2) + 0.5 * ((0.5**2 + (-3.0) ** 2) / 2)
    expected_g = 0.5 * (((0.5 - 1) ** 2 + (-3.0 - 1) ** 2) / 2)
    assert v.d_objective(REAL, FAKE).item() == pytest.approx(expected_d)
    assert v.g_objective(FAKE).item() == pytest.approx(expected_g)


def test_lsgan_minus1_1_0_coding_and_bad_coding():
    v = make_variant("lsgan", coding="-1-1-0")
    expected_d = 0.5 * ((1.0**2 + 2.0**2) / 2) + 0.5 * ((1.5**2 + (-2.0) ** 2) / 2)
    assert v.d_objective(REAL, FAKE).item() == pytest.approx(expected_d)
    assert v.g_objective(FAKE).item() == pytest.approx(0.5 * ((0.5**2 + 3.0**2) / 2))
    with pytest.raises(ConfigError, match="coding"):
        make_variant("lsgan", coding="0-2")


class Linear(nn.Module):
    """D(x) = w . x: its input gradient is w everywhere, so ||grad|| = ||w||."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x.flatten(1) @ self.w


def test_wgan_gp_objective_and_penalty_with_known_gradient_norm():
    v = make_variant("wgan-gp")
    assert v.d_objective(REAL, FAKE).item() == pytest.approx((0.5 - 3.0) / 2 - (2.0 - 1.0) / 2)
    assert v.g_objective(FAKE).item() == pytest.approx(-(0.5 - 3.0) / 2)
    critic = Linear([3.0, 4.0])  # ||w|| = 5 -> penalty (5 - 1)^2 = 16 at every x_hat
    real, fake = torch.randn(6, 2), torch.randn(6, 2)
    assert gradient_penalty(critic, real, fake).item() == pytest.approx(16.0)
    expected = (critic(fake).mean() - critic(real).mean()).item() + 10 * 16.0
    assert v.d_loss(critic, real, fake).item() == pytest.approx(expected, rel=1e-5)
    assert gradient_penalty(Linear([0.6, 0.8]), real, fake).item() == pytest.approx(0.0, abs=1e-10)


def test_wgan_gp_penalty_is_differentiable_wrt_critic():
    critic = Linear([3.0, 4.0])
    gradient_penalty(critic, torch.randn(4, 2), torch.randn(4, 2)).backward()
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w|| = 2 * 4 * (0.6, 0.8)
    assert torch.allclose(critic.w.grad, torch.tensor([4.8, 6.4]), atol=1e-5)


def test_every_default_and_preset_names_one_reference():
    """repository@commit file:lines (or a paper's table), never a blank or two codebases;
    a note in parentheses may follow (e.g. r3gan's schedules it does not run)."""
    builtin = [n for n in VARIANTS.names() if VARIANTS.get(n).__module__.startswith("ganbench.variants.")]
    assert len(builtin) == 8
    for name in builtin:
        cls = VARIANTS.get(name)
        for preset in cls.preset_names():
            source = cls.preset(preset).defaults.source
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{7} \S+:[\d,-]+( \([^()]+\))?|Miyato et al\. 2018 .*", source), (name, preset)
    assert VARIANTS.get("wgan-gp").defaults == Defaults(n_critic=5, lr=1e-4, betas=(0.5, 0.9), d_norm="none",
                                                        source=VARIANTS.get("wgan-gp").defaults.source)
    hinge = VARIANTS.get("hinge").defaults
    assert (hinge.n_critic, hinge.lr, hinge.betas, hinge.d_norm) == (5, 2e-4, (0.0, 0.9), "spectral")
    assert VARIANTS.get("loss-sensitive").defaults.lr == 2e-4
    assert VARIANTS.get("vanilla").defaults.d_norm == "batch"


def test_unknown_variant_and_option_are_named():
    with pytest.raises(UnknownNameError, match=r"unknown variant 'ls'; valid variants: .*loss-sensitive, lsgan, .*wgan-gp"):
        make_variant("ls")
    with pytest.raises(ConfigError, match="no option"):
        make_variant("wgan-gp", gp_wieght=5)


def test_a_sixth_variant_is_one_decorated_class():
    @dataclass(frozen=True)
    class HingeOptions:
        margin: float = 1.0

    @register_variant("hinge-test")
    class Hinge(Variant):
        defaults = Defaults(n_critic=2, lr=3e-4)
        Options = HingeOptions

        def d_objective(self, real_scores, fake_scores):
            m = self.options.margin
            return F.relu(m - real_scores).mean() + F.relu(m + fake_scores).mean()

        def g_objective(self, fake_scores):
            return -fake_scores.mean()

    try:
        assert "hinge-test" in VARIANTS.names()
        v = make_variant("hinge-test")
        assert v.d_objective(REAL, FAKE).item() == pytest.approx((0 + 2.0) / 2 + (1.5 + 0) / 2)
        import tempfile

        from ganbench.config.run import Budget, RunConfig
        from ganbench.training.trainer import train

        with tempfile.TemporaryDirectory() as out:
            record = train(RunConfig("hinge-test", "ring8", 0, Budget.parse("2e9flops")), out)
        assert record["status"] == "finished" and record["config"]["n_critic"] == 2
    finally:
        VARIANTS.unregister("hinge-test")


@pytest.mark.parametrize("name", sorted(VARIANTS.names()))
def test_g_uses_real_says_whether_the_generator_step_draws_a_real_batch(name):
    """The trainer trusts ``g_uses_real`` to count images seen and fixed packs drawn
    (trainer, training/packs.py); the generator step must draw exactly that many real
    batches, one for a variant that pairs fakes with reals (r3gan), none otherwise."""
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    fake = torch.randn(16, 2, requires_grad=True)
    drawn = []

    def real_batch():
        drawn.append(1)
        return torch.randn(16, 2)

    variant = make_variant(name)
    loss = variant.g_step_loss(critic, fake, real_batch)
    assert loss.dim() == 0 and torch.isfinite(loss)
    assert len(drawn) == int(type(variant).g_uses_real)
