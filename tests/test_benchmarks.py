"""Benchmark files: the shipped ones parse; each malformed fixture gives its error."""

import re
from pathlib import Path

import pytest

from ganbench.config.benchmarks import PROFILES, discover, load_benchmark
from ganbench.config.run import Budget
from ganbench.core.errors import ConfigError, UnknownNameError
from ganbench.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
BAD = sorted((Path(__file__).parent / "fixtures" / "bad_benchmarks").glob("*.toml"))


def test_shipped_benchmarks_parse_with_equal_budgets_per_variant():
    benchmarks = discover(ROOT / "benchmarks")
    assert {"ring8", "grid25", "fashion-mnist", "stacked-fashion-mnist", "cifar10"} <= {b.name for b in benchmarks}
    for bench in benchmarks:
        for profile in bench.profiles:
            configs = bench.run_configs(profile)
            assert {c.variant for c in configs} == set(VARIANTS.names())
            assert len({c.budget for c in configs}) == 1, "every variant of a benchmark gets the same budget"
    quick = [b for b in benchmarks if "quick" in b.profiles]
    assert all(len(b.profile("quick").seeds) >= 3 for b in quick)


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_malformed_benchmark_gives_the_intended_error(path):
    expected = re.match(r"# expect: (.*)", path.read_text()).group(1)
    with pytest.raises(ConfigError) as info:
        load_benchmark(path)
    message = str(info.value)
    assert str(path) in message or path.name in message
    assert re.search(expected, message), message


def test_unknown_benchmark_and_profile_are_named(tmp_path):
    (tmp_path / "a.toml").write_text('dataset = "ring8"\n[profiles.quick]\nbudget = "1e9flops"\n')
    with pytest.raises(UnknownNameError, match="unknown benchmark 'b'; valid benchmarks: a"):
        discover(tmp_path, ("b",))
    with pytest.raises(UnknownNameError, match="no profile 'full'; it defines: quick"):
        discover(tmp_path)[0].profile("full")


def test_overrides_reach_the_run_config(tmp_path):
    (tmp_path / "x.toml").write_text(
        'dataset = "ring8"\nvariants = ["wgan-gp", "lsgan"]\n'
        '[profiles.smoke]\nbudget = "5GFLOPs"\nseeds = [3]\ntrain = { batch_size = 32, width = 16 }\n'
        '[overrides.wgan-gp]\nn_critic = 3\noptions = { gp_weight = 1.0 }\n'
    )
    configs = load_benchmark(tmp_path / "x.toml").run_configs("smoke")
    wgan, lsgan = configs
    assert wgan.n_critic == 3 and wgan.variant_options == {"gp_weight": 1.0} and lsgan.n_critic is None
    assert wgan.budget == Budget("flops", 5e9) and wgan.seed == 3 and wgan.batch_size == 32 and wgan.benchmark == "x"


def test_profiles_constant():
    assert PROFILES == ("smoke", "quick", "full", "paper", "cpu")
