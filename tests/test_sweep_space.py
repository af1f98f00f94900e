"""Search spaces: parsing, per-variant views, and writing draws into a RunConfig."""

from pathlib import Path

import pytest

from ganbench.config.benchmarks import discover
from ganbench.config.run import Budget, RunConfig
from ganbench.config.search_space import apply_params, load_spaces, params_of, parse_space, variant_space
from ganbench.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
WIDE = {
    "lr": {"log_uniform": [1e-5, 1e-2]}, "beta1": {"uniform": [0.0, 1.0]}, "n_critic": {"int": [1, 5]},
    "d_norm": {"choice": ["batch", "none"]}, "gp_weight": {"log_uniform": [0.1, 100.0]}, "beta2": 0.99,
}


def test_shipped_benchmarks_declare_wide_and_narrow_spaces():
    for bench in discover(ROOT / "benchmarks", ("ring8", "grid25", "fashion-mnist")):
        spaces = load_spaces(bench.search_space, bench.name)
        assert {"wide", "narrow"} <= set(spaces)
        wide = spaces["wide"]
        assert (wide["lr"].kind, wide["lr"].low, wide["lr"].high) == ("log_uniform", 1e-5, 1e-2)
        assert (wide["beta1"].low, wide["beta1"].high) == (0.0, 1.0)
        assert (wide["n_critic"].kind, wide["n_critic"].low, wide["n_critic"].high) == ("int", 1, 5)
        assert (wide["gp_weight"].low, wide["gp_weight"].high) == (0.1, 100.0)


def test_variant_view_drops_foreign_options_and_swaps_batch_norm():
    space = parse_space(WIDE, "test")
    vanilla = variant_space(space, "vanilla")
    assert "gp_weight" not in vanilla and vanilla["d_norm"].choices == ("batch", "none")
    wgan = variant_space(space, "wgan-gp")
    assert wgan["d_norm"].choices == ("layer", "none")  # no batch norm in a penalised critic
    assert list(wgan)[-1] == "gp_weight"  # options after the shared draws
    assert variant_space(space, "loss-sensitive")["d_norm"].choices == ("layer", "none")


@pytest.mark.parametrize("spec, message", [
    ({"lr": {"log_uniform": [0.0, 1.0]}}, "positive low"),
    ({"lr": {"uniform": [1.0, 0.1]}}, "low must be below high"),
    ({"n_critic": {"int": [0, 5]}}, "n_critic must be integers >= 1"),
    ({"n_critic": {"int": [1.0, 5.0]}}, "integer bounds"),
    ({"beta1": {"uniform": [0.0, 1.5]}}, "betas lie in [0, 1]"),
    ({"d_norm": {"choice": ["batch", "spectral"]}}, "d_norm takes choice"),
    ({"momentum": {"uniform": [0.0, 1.0]}}, "unknown hyperparameter 'momentum'"),
    ({"lr": {"normal": [0.0, 1.0]}}, "expected exactly one of"),
    ({"lr": {"choice": []}}, "non-empty list"),
    ({}, "non-empty table"),
])
def test_malformed_spaces_name_the_key(spec, message):
    with pytest.raises(ConfigError) as err:
        parse_space(spec, "ring8.search_space.wide")
    assert message in str(err.value) and "ring8.search_space.wide" in str(err.value)


def test_apply_params_and_read_them_back():
    template = RunConfig(variant="wgan-gp", dataset="ring8", seed=0, budget=Budget("flops", 1e9),
                         variant_options={"gp_weight": 10.0})
    params = {"lr": 3e-4, "beta1": 0.1, "n_critic": 2, "d_norm": "none", "gp_weight": 1.5}
    config = apply_params(template, params)
    assert config.lr == 3e-4 and config.n_critic == 2 and config.d_norm == "none"
    assert config.betas == (0.1, 0.9)  # beta2 stays the variant's default
    assert config.variant_options == {"gp_weight": 1.5}
    assert params_of(config.to_dict(), params) == params
    assert apply_params(template, {"beta1": 1.0}).betas[0] < 1.0  # Adam refuses beta = 1
