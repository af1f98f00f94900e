"""The memory check: a run too large for the machine fails before training, named."""

from __future__ import annotations

import pytest

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.datasets import load_dataset
from ganbench.training.memory import GIB, check_memory, estimate_memory
from ganbench.training.trainer import train


def ring8(**settings) -> RunConfig:
    config = RunConfig(variant="vanilla", dataset="ring8", seed=0, budget=Budget("g_steps", 1), **settings)
    return resolve(config, "points")


@pytest.fixture(scope="module")
def info():
    return load_dataset("ring8", "test").info


def test_a_small_mlp_is_counted_by_hand(info):
    est = estimate_memory(ring8(width=8, z_dim=2, batch_size=10), info)
    # generator 2 -> 8 -> 8 -> 8 -> 2: (2*8+8) + 2*(8*8+8) + (8*2+2) = 24 + 144 + 18 = 186;
    # critic    2 -> 8 -> 8 -> 8 -> 1: 24 + 144 + (8+1) = 177.
    assert est.parameters == 186 + 177
    assert est.bytes_per_parameter == 4 * (1 + 1 + 2)  # float32 weight, gradient, Adam's two moments
    # Leaf outputs per sample: generator 3 x (linear 8 + relu 8) + 2 = 50; critic 3 x 16 + 1 = 49;
    # float32, kept for backward and matched by their gradients: x 4 bytes x 2.
    assert est.activations == 10 * (50 + 49) * 4 * 2
    assert est.total == 363 * 16 + 10 * 99 * 8


def test_an_oversized_model_is_refused_naming_what_it_needs(info):
    with pytest.raises(ConfigError) as err:
        check_memory(ring8(width=100_000), info, available=8 * GIB)
    message = str(err.value)
    # 2 -> 1e5 -> 1e5 -> 1e5 -> 2 twice: ~4.0e10 parameters x 16 bytes = 596 GiB.
    assert "596." in message and "GiB" in message and "8.0 GiB available" in message
    assert "--width" in message


def test_a_seed_group_is_counted_once_per_member(info):
    one = estimate_memory(ring8(width=4096), info).total
    assert check_memory(ring8(width=4096), info, available=int(1.5 * one)).total == one
    with pytest.raises(ConfigError, match="x 10 seeds trained together.*--group-seeds off"):
        check_memory(ring8(width=4096), info, available=int(1.5 * one), copies=10)


def test_a_normal_model_passes(info):
    need = check_memory(ring8(width=128), info)  # the quick profile's ring8 size, real free memory
    assert 0 < need.total < 64 * 2 ** 20


def test_train_refuses_before_writing_anything(tmp_path):
    config = RunConfig(variant="vanilla", dataset="ring8", seed=0, budget=Budget("g_steps", 1), width=100_000)
    with pytest.raises(ConfigError, match="GiB"):
        train(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
