"""Loss-sensitive GAN as glsgan-gp's lsgan-gp.py runs it (a135b0e), with its named
alternatives: known answers for the margin, the cost, every Lipschitz term, the
presets, and the generator gradient the old relu default lost."""

import math

import pytest
import torch
from torch import nn

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.datasets import load_dataset
from ganbench.training.trainer import build_run, train
from ganbench.variants import make_variant
from ganbench.variants.loss_sensitive import LossSensitive


class Linear(nn.Module):
    """L(x) = w . x + b on flattened x: every gradient and slope is known."""

    def __init__(self, w, b=0.0):
        super().__init__()
        self.w, self.b = torch.as_tensor(w, dtype=torch.float64), b

    def forward(self, x):
        return x.flatten(1) @ self.w + self.b


def test_margin_is_the_reference_lambda_times_the_per_pair_l1_distance():
    real = torch.tensor([[1.0, -2.0], [0.0, 0.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 1.0], [0.5, -0.5]])
    margin = make_variant("loss-sensitive").margin(real, fake)
    assert torch.allclose(margin, torch.tensor([2e-4 * 4.0, 2e-4 * 1.0]))
    assert not margin.requires_grad  # no gradient through Delta


def test_cost_is_relu_by_default_and_leaky_at_a_slope():
    real_s, fake_s = torch.tensor([1.0, -1.0, 0.0]), torch.tensor([0.0, 0.0, 0.5])
    margin = torch.tensor([0.5, 0.5, 0.25])
    # a = Delta + L(x) - L(G(z)) = [1.5, -0.5, -0.25]
    relu = make_variant("loss-sensitive").pair_objective(real_s, fake_s, margin)
    assert relu.item() == pytest.approx(1.5 / 3)
    leaky = make_variant("loss-sensitive", slope=0.2).pair_objective(real_s, fake_s, margin)
    assert leaky.item() == pytest.approx((1.5 - 0.2 * 0.5 - 0.2 * 0.25) / 3)
    with_gamma = make_variant("loss-sensitive", gamma=0.1).pair_objective(real_s, fake_s, margin)
    assert with_gamma.item() == pytest.approx(1.5 / 3 + 0.1 * 0.0)  # mean L(x) = 0 here
    relu_output = make_variant("loss-sensitive", loss_output="relu").pair_objective(real_s, fake_s, margin)
    # L = relu(D): [1, 0, 0] and [0, 0, 0.5] -> a = [1.5, 0.5, -0.25]
    assert relu_output.item() == pytest.approx(2.0 / 3)


def test_gradient_at_real_is_the_mean_gradient_norm_over_dim_1():
    """L(x) = 1/2 ||x||^2 has gradient x: for points the penalty is mean ||x_i||; for an
    image batch it is the channel norm at each pixel, averaged over batch and pixels."""
    v = make_variant("loss-sensitive")
    half_square = lambda x: 0.5 * (x**2).flatten(1).sum(dim=1)  # noqa: E731
    points = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    assert v.gradient_at_real(half_square, points).item() == pytest.approx((5.0 + 1.0) / 2)
    images = torch.randn(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    expected = images.norm(2, dim=1).mean()
    assert v.gradient_at_real(half_square, images).item() == pytest.approx(expected.item(), rel=1e-6)
    assert v.gradient_at_real(half_square, images).item() != pytest.approx(images.flatten(1).norm(dim=1).mean().item())


def test_default_d_loss_adds_ten_times_the_gradient_at_real():
    w = [0.6, -0.8]  # ||grad L|| = 1 everywhere
    real, fake = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    # a = 2e-4 * 1 + 0.6 - 0 > 0: cost 0.6002; penalty 10 * 1
    assert make_variant("loss-sensitive").d_loss(Linear(w), real, fake).item() == pytest.approx(0.6002 + 10.0)


def test_finite_difference_terms_use_two_points_per_batch_on_each_segment():
    """For a linear L the slope |L(x1) - L(x2)| / ||x1 - x2|| is |w . u| with u the unit
    direction of x - G(z), wherever on the segment the two points fall."""
    w = torch.tensor([0.6, -0.8], dtype=torch.float64)
    real = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    fake = torch.zeros(2, 2, dtype=torch.float64)
    expected = (real @ w).abs() / real.norm(dim=1)  # [0.6, 0.8]
    v = make_variant("loss-sensitive", lipschitz="finite-difference-slope")
    torch.manual_seed(0)
    assert torch.allclose(v.finite_difference_slope(Linear(w), real, fake), expected)
    torch.manual_seed(0)
    unit = make_variant("loss-sensitive", lipschitz="finite-difference").d_loss(Linear(w), real, fake)
    torch.manual_seed(0)
    slope = v.d_loss(Linear(w), real, fake)
    cost = make_variant("loss-sensitive", lipschitz="weight-decay").d_loss(Linear(w), real, fake)
    assert (unit - cost).item() == pytest.approx(10 * ((expected - 1) ** 2).mean().item())
    assert (slope - cost).item() == pytest.approx(10 * expected.mean().item())


def test_one_mixing_weight_pair_per_batch_as_the_reference_draws():
    v = make_variant("loss-sensitive", lipschitz="finite-difference")
    seen = []
    critic = lambda x: (seen.append(x.detach().clone()), x.sum(dim=1))[1]  # noqa: E731
    real, fake = torch.randn(4, 2), torch.randn(4, 2)
    v.finite_difference_slope(critic, real, fake)
    x1 = seen[0]
    a1 = (x1 - fake) / (real - fake)  # the mixing weight of every pair and coordinate
    assert torch.allclose(a1, a1[0, 0].expand_as(a1), atol=1e-5)


def test_generator_gets_a_gradient_where_the_old_relu_default_gave_none():
    """With L = relu(D) and every D(G(z)) < 0, mean L(G(z)) has no gradient at all
    (the committed ring8 seed-2 run never trained); the raw L of lsgan-gp.py has one."""
    fake = torch.randn(8, 2, requires_grad=True)
    critic = Linear([1.0, 1.0], b=-100.0)  # D(G(z)) << 0 for every sample
    for loss_output, has_gradient in (("relu", False), ("raw", True)):
        v = make_variant("loss-sensitive", loss_output=loss_output)
        (grad,) = torch.autograd.grad(v.g_loss(critic, fake.double()), fake)
        assert bool(grad.abs().sum() > 0) is has_gradient, loss_output


def resolved(dataset, **kw):
    data = load_dataset(dataset, "train") if dataset != "fashion-mnist" else None
    kind = "points" if data is not None else "images"
    return resolve(RunConfig("loss-sensitive", dataset, 0, Budget.parse("1e9flops"), **kw), kind)


def test_default_is_one_reference_and_the_record_lists_every_option():
    cfg = resolved("ring8")
    assert (cfg.preset, cfg.lr, cfg.betas, cfg.n_critic, cfg.d_norm) == ("glsgan-gp", 2e-4, (0.5, 0.999), 1, "none")
    assert cfg.variant_options == {}  # the default preset sets nothing beyond the variant's defaults
    assert LossSensitive.defaults.source.startswith("maple-research-lab/glsgan-gp@a135b0e")


def test_lsgan_lua_preset_is_the_torch_code_and_explicit_options_win():
    cfg = resolved("ring8", preset="lsgan-lua", variant_options={"weight_decay": 5e-5})
    assert cfg.lr == 1e-4 and cfg.d_norm == "none"  # its batch-norm critic is not an MLP's
    assert cfg.variant_options == {"loss_output": "relu", "lipschitz": "weight-decay", "weight_decay": 5e-5}
    assert resolved("fashion-mnist", preset="lsgan-lua").d_norm == "batch"
    with pytest.raises(ConfigError, match="no preset 'lsgan.lua'.*lsgan-lua"):
        resolved("ring8", preset="lsgan.lua")


def test_weight_decay_acts_on_both_optimisers():
    data = load_dataset("ring8", "train")
    cfg = resolve(RunConfig("loss-sensitive", "ring8", 0, Budget.parse("1e9flops"), width=16,
                            variant_options={"lipschitz": "weight-decay", "weight_decay": 5e-5}), "points")
    run = build_run(cfg, data)
    assert run.opt_g.defaults["weight_decay"] == run.opt_d.defaults["weight_decay"] == 5e-5


def test_double_backward_follows_the_lipschitz_option():
    assert make_variant("loss-sensitive").double_backward is True
    for control in ("finite-difference", "finite-difference-slope", "weight-decay"):
        assert make_variant("loss-sensitive", lipschitz=control).double_backward is False


def test_bad_options_name_the_choices():
    with pytest.raises(ConfigError, match="gradient-at-real"):
        make_variant("loss-sensitive", lipschitz="gradient-norm")
    with pytest.raises(ConfigError, match="slope"):
        make_variant("loss-sensitive", slope=2.0)


def test_default_trains_with_compile_and_stays_finite(tmp_path):
    """The gradient at the real batch differentiates the critic twice: it stays eager."""
    cfg = RunConfig("loss-sensitive", "ring8", 0, Budget.parse("4steps"), width=16, batch_size=16, compile=True)
    record = train(cfg, tmp_path / "run")
    assert record["status"] == "finished"
    assert all(math.isfinite(v) for v in record["losses"]["d_loss"])
