"""The hinge variant on hand-computed scores, and the spectral-norm critic."""

import pytest
import torch
from torch import nn

from ganbench.config.run import Budget, RunConfig
from ganbench.datasets import DatasetInfo
from ganbench.models import build_models
from ganbench.training.trainer import train
from ganbench.variants import make_variant


def test_hinge_on_scores():
    v = make_variant("hinge")
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-3.0, -0.5, 1.5])
    # D: relu(1 - [2, .5, -1]) = [0, .5, 2] -> 2.5/3; relu(1 + [-3, -.5, 1.5]) = [0, .5, 2.5] -> 3/3
    assert v.d_objective(real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert v.g_objective(fake).item() == pytest.approx(-(-3.0 - 0.5 + 1.5) / 3)
    assert v.d_objective(torch.tensor([1.0, 7.0]), torch.tensor([-1.0, -9.0])).item() == 0.0  # margins met


def layers(critic: nn.Module):
    return [m for m in critic.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


@pytest.mark.parametrize("info", [DatasetInfo("pts", "points", (2,), 8), DatasetInfo("img", "images", (1, 28, 28), 10)],
                         ids=["mlp", "dcgan"])
def test_spectral_norm_makes_every_critic_layer_unit_norm(info):
    torch.manual_seed(0)
    _, critic = build_models(info, width=16, z_dim=4, d_norm="spectral")
    assert layers(critic) and all(hasattr(m, "parametrizations") for m in layers(critic))
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)) for m in critic.modules())
    x = torch.randn(4, *info.shape)
    for _ in range(300):  # power iterations run in training-mode forward passes
        critic(x)
    for m in layers(critic):
        w = m.weight.detach().flatten(1)  # Conv2d: (out, in*k*k), as spectral_norm reshapes it
        assert torch.linalg.matrix_norm(w, ord=2).item() == pytest.approx(1.0, abs=1e-3)
        raw = m.parametrizations.weight.original.detach().flatten(1)
        assert torch.linalg.matrix_norm(raw, ord=2).item() != pytest.approx(1.0, abs=1e-2)


def test_hinge_trains_with_a_spectral_norm_critic(tmp_path):
    config = RunConfig(variant="hinge", dataset="ring8", seed=0, budget=Budget.parse("2e8flops"),
                       batch_size=16, width=16, snapshot_fractions=(1.0,))
    r = train(config, tmp_path / "run")
    assert r["status"] == "finished" and r["config"]["d_norm"] == "spectral" and r["spent"]["g_steps"] > 10
