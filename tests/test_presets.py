"""Named reference configurations (presets) and critic normalisations resolved per
model kind: the record says what the model has, and asking for what it cannot
have is an error that names the choices."""

import subprocess
import sys
from pathlib import Path

import pytest

from ganbench.config.benchmarks import load_benchmark
from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def config(variant, dataset="ring8", **kw):
    return RunConfig(variant, dataset, 0, Budget.parse("1e9flops"), **kw)


@pytest.mark.parametrize("variant", ["vanilla", "vanilla-mm", "lsgan", "wgan", "wgan-gp"])
def test_an_mlp_critic_records_no_normalisation(variant):
    assert resolve(config(variant), "points").d_norm == "none"


def test_image_critics_keep_the_reference_normalisation():
    assert resolve(config("vanilla", "fashion-mnist"), "images").d_norm == "batch"
    assert resolve(config("hinge", "fashion-mnist"), "images").d_norm == "spectral"
    assert resolve(config("hinge"), "points").d_norm == "spectral"  # spectral norm fits any Linear


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_asking_an_mlp_critic_for_a_normalisation_layer_is_an_error(norm):
    with pytest.raises(ConfigError, match=f"d_norm '{norm}' is not available for points.*none, spectral"):
        resolve(config("vanilla", d_norm=norm), "points")


def test_the_resolved_config_names_its_preset():
    assert resolve(config("hinge"), "points").preset == "sngan"
    c = resolve(config("hinge", preset="miyato-c"), "points")
    assert (c.preset, c.n_critic, c.betas) == ("miyato-c", 1, (0.5, 0.999))
    c = resolve(config("wgan-gp", preset="gan_toy"), "points")
    assert c.variant_options == {"gp_weight": 0.1}


def test_explicit_settings_override_the_preset():
    c = resolve(config("hinge", preset="miyato-c", n_critic=3, lr=1e-3), "points")
    assert (c.n_critic, c.lr, c.betas) == (3, 1e-3, (0.5, 0.999))
    c = resolve(config("wgan-gp", preset="gan_toy", variant_options={"gp_weight": 2.0}), "points")
    assert c.variant_options == {"gp_weight": 2.0}


def test_benchmark_files_choose_presets_and_unknown_ones_name_the_file(tmp_path):
    ring8 = load_benchmark(ROOT / "benchmarks" / "ring8.toml")
    wgan_gp = [c for c in ring8.run_configs("quick") if c.variant == "wgan-gp"]
    assert wgan_gp and all(c.preset == "gan_toy" for c in wgan_gp)
    text = (ROOT / "benchmarks" / "ring8.toml").read_text().replace('preset = "gan_toy"', 'preset = "gan-toy"')
    bad = tmp_path / "ring8.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"ring8\.toml: overrides\.wgan-gp\.preset: .*no preset 'gan-toy'.*gan_toy"):
        load_benchmark(bad)


def test_list_shows_each_default_with_its_source():
    out = subprocess.run([sys.executable, "-m", "ganbench", "list"], capture_output=True, text=True, cwd=ROOT,
                         check=True).stdout
    assert "default glsgan-gp:" in out and "source: maple-research-lab/glsgan-gp@a135b0e lsgan-gp.py" in out
    assert "preset lsgan-lua:" in out and "default sngan:" in out and "preset miyato-c:" in out
