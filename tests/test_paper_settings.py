"""Published settings in benchmark files and on `ganbench train` (issue 11):
per-network MLP sizes, generator batch norm, a maxout critic, init std,
per-network Adam settings, and budgets in epochs or generator steps."""

import pytest
import torch
from click.testing import CliRunner

from ganbench.cli import main
from ganbench.config.benchmarks import load_benchmark
from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.core.record import read_record
from ganbench.datasets import load_dataset
from ganbench.models import Maxout, MlpCritic, MlpGenerator, build_models, init_normal
from ganbench.training.budget import BudgetMeter, Spent
from ganbench.training.trainer import build_run, train


def cfg(budget="3steps", **kw):
    return RunConfig(variant="vanilla", dataset="ring8", seed=0, budget=Budget.parse(budget), **kw)


@pytest.mark.parametrize("text, unit, limit", [("400epochs", "epochs", 400.0), ("0.5 epoch", "epochs", 0.5),
                                               ("5000steps", "g_steps", 5000.0), ("7 step", "g_steps", 7.0)])
def test_budget_parses_epochs_and_generator_steps(text, unit, limit):
    budget = Budget.parse(text)
    assert (budget.unit, budget.limit) == (unit, limit)


@pytest.mark.parametrize("text", ["5kepochs", "3msteps", "epochs", "-1steps"])
def test_budget_rejects_prefixed_or_malformed_step_units(text):
    with pytest.raises(ConfigError, match="malformed budget"):
        Budget.parse(text)


@pytest.mark.parametrize("setting, value", [
    ("pack", 0), ("g_width", 0), ("d_width", -3), ("g_depth", 0), ("d_depth", 0), ("d_maxout_pieces", 1),
    ("init_std", 0.0), ("init_std", float("nan")), ("lr_g", -1e-4), ("lr_d", float("inf")),
    ("betas_g", (1.0, 0.9)), ("betas_d", (0.5,)),
])
def test_bad_settings_name_the_setting(setting, value):
    with pytest.raises(ConfigError, match=setting):
        cfg(**{setting: value})

STEP_FLOPS = {"d_step": 6, "g_step": 4}


def ONE_CRITIC_STEP(g_step):
    return 1


def test_epoch_budget_is_epochs_times_points_over_batch():
    # PacGAN: 100,000 points, batches of 100 -> 1000 G steps an epoch; 400 epochs = 400,000 steps.
    meter = BudgetMeter(Budget.parse("400epochs"), STEP_FLOPS, ONE_CRITIC_STEP, steps_per_epoch=100_000 / 100)
    assert meter.step_limit() == 400_000
    assert meter.next_fits(Spent(g_steps=399_999)) and not meter.next_fits(Spent(g_steps=400_000))
    assert meter.progress(Spent(g_steps=100_000)) == 0.25
    assert BudgetMeter(Budget.parse("0.1epochs"), STEP_FLOPS, ONE_CRITIC_STEP, steps_per_epoch=1000).step_limit() == 100
    assert BudgetMeter(Budget.parse("250steps"), STEP_FLOPS, ONE_CRITIC_STEP, steps_per_epoch=1000).step_limit() == 250


def test_epoch_budget_trains_that_many_steps_and_records_flops(tmp_path):
    # ring8's training split holds 100,000 points; batch 2000 -> 50 steps an epoch.
    record = train(cfg(budget="0.1epochs", batch_size=2000, width=8), tmp_path / "run")
    assert record["spent"]["g_steps"] == 5 and record["train_size"] == 100_000
    assert record["spent"]["flops"] == 5 * record["iteration_flops"] > 0
    assert record["budget"]["unit"] == "epochs"


def test_maxout_layer_known_answer():
    layer = Maxout(2, units=2, pieces=3)
    with torch.no_grad():
        # rows: unit 0 pieces 0..2, then unit 1 pieces 0..2 (Blocks' LinearMaxout layout)
        layer.linear.weight.copy_(torch.tensor([[1., 0.], [0., 1.], [-1., -1.], [2., 0.], [0., 0.], [0., -3.]]))
        layer.linear.bias.copy_(torch.tensor([0., 0., 0., 0., 0.5, 0.]))
    x = torch.tensor([[1., 2.], [-1., -1.]])
    # x1: unit 0 max(1, 2, -3) = 2; unit 1 max(2, 0.5, -6) = 2
    # x2: unit 0 max(-1, -1, 2) = 2; unit 1 max(-2, 0.5, 3) = 3
    assert torch.equal(layer(x), torch.tensor([[2., 2.], [2., 3.]]))


def test_pacgan_sized_models_have_the_papers_parameter_counts():
    info = load_dataset("ring8").info
    config = resolve(cfg(g_width=400, g_depth=4, g_batch_norm=True, d_width=200, d_maxout_pieces=5, pack=3), "points")
    g, d = build_models(info, width=config.width, z_dim=2, d_norm="none", config=config)
    # G: 2->400 (no bias) + 3 x 400->400 (no bias), 4 batch norms (scale, shift), 400->2 with bias
    assert sum(p.numel() for p in g.parameters()) == 2 * 400 + 3 * 400 * 400 + 4 * 800 + 400 * 2 + 2
    # D: maxout 6->200x5, 2 x maxout 200->200x5, linear 200->1 (pack 3: input 2 x 3)
    assert sum(p.numel() for p in d.parameters()) == (6 * 1000 + 1000) + 2 * (200 * 1000 + 1000) + 201
    norms = [m for m in g.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert len(norms) == 4 and all(m.momentum == 0.05 for m in norms)


def test_default_models_are_unchanged_without_settings():
    g, d = MlpGenerator(2, 16), MlpCritic(2, 16)
    assert [type(m).__name__ for m in g.net] == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert [type(m).__name__ for m in d.net] == ["Linear", "LeakyReLU"] * 3 + ["Linear"]


def test_init_std_draws_weights_and_zeroes_biases():
    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(500, 500), torch.nn.BatchNorm1d(500))
    init_normal(layer, 0.02)
    assert abs(layer[0].weight.std().item() - 0.02) < 5e-4 and abs(layer[0].weight.mean().item()) < 5e-4
    assert torch.count_nonzero(layer[0].bias) == 0
    assert torch.equal(layer[1].weight, torch.ones(500))  # batch norm keeps scale 1


def test_per_network_learning_rates_and_betas_override_both():
    data = load_dataset("ring8")
    run = build_run(resolve(cfg(lr=1e-3, betas=(0.5, 0.9), lr_g=2e-4, betas_d=(0.8, 0.999)), "points"), data)
    assert (run.opt_g.param_groups[0]["lr"], run.opt_g.param_groups[0]["betas"]) == (2e-4, (0.5, 0.9))
    assert (run.opt_d.param_groups[0]["lr"], run.opt_d.param_groups[0]["betas"]) == (1e-3, (0.8, 0.999))


BENCH = """
dataset = "ring8"
primary_metric = "modes"
[entries.GAN]
variant = "vanilla"
[entries.PacGAN2]
variant = "vanilla"
pack = 2
lr_d = 3e-4
[profiles.smoke]
budget = "2epochs"
seeds = [0]
train = { batch_size = 100, g_width = 400, g_depth = 4, g_batch_norm = true, d_width = 200, d_maxout_pieces = 5, init_std = 0.02, lr = 1e-4, betas = [0.8, 0.999] }
"""


def test_benchmark_entries_carry_their_names_and_settings(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(BENCH)
    bench = load_benchmark(path)
    gan, pac2 = bench.run_configs("smoke")
    assert (gan.label, gan.variant, gan.pack, gan.lr_d) == ("GAN", "vanilla", 1, None)
    assert (pac2.label, pac2.variant, pac2.pack, pac2.lr_d, pac2.lr) == ("PacGAN2", "vanilla", 2, 3e-4, 1e-4)
    assert (pac2.g_width, pac2.g_depth, pac2.g_batch_norm, pac2.d_width, pac2.d_maxout_pieces, pac2.init_std,
            pac2.betas) == (400, 4, True, 200, 5, 0.02, (0.8, 0.999))


@pytest.mark.parametrize("edit, message", [
    (('variant = "vanilla"\npack = 2', 'variant = "vanila"\npack = 2'), "entries.PacGAN2.variant"),
    (("d_maxout_pieces = 5", "d_maxout_pieces = 1"), "d_maxout_pieces"),
    (("init_std = 0.02", 'init_std = "small"'), "train.init_std"),
    (("pack = 2", "pack = 0"), "pack must be positive"),
    (('primary_metric = "modes"', 'primary_metric = "modes"\nvariants = ["vanilla"]'), "either `variants` or `entries`"),
])
def test_bad_benchmark_settings_name_the_setting(tmp_path, edit, message):
    path = tmp_path / "b.toml"
    path.write_text(BENCH.replace(*edit))
    with pytest.raises(ConfigError, match=message):
        load_benchmark(path)


def test_train_command_takes_every_paper_setting(tmp_path):
    args = ["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "0.02epochs", "--batch-size", "1000",
            "--g-width", "12", "--g-depth", "4", "--g-batch-norm", "--d-width", "6", "--d-maxout-pieces", "5",
            "--init-std", "0.02", "--lr", "1e-4", "--betas", "0.8", "0.999", "--lr-d", "2e-4", "--betas-g", "0.5", "0.9",
            "--pack", "2", "--z-dim", "3", "--out", str(tmp_path / "run")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    record = read_record(tmp_path / "run")
    c = record["config"]
    assert (c["g_width"], c["g_depth"], c["g_batch_norm"], c["d_width"], c["d_maxout_pieces"]) == (12, 4, True, 6, 5)
    assert (c["init_std"], c["lr"], c["betas"], c["lr_d"], c["betas_g"], c["pack"], c["z_dim"]) == (
        0.02, 1e-4, [0.8, 0.999], 2e-4, [0.5, 0.9], 2, 3)
    assert record["spent"]["g_steps"] == 2  # 0.02 epochs x 100,000 points / 1000


def test_train_command_takes_the_spectral_norm_critic(tmp_path):
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "2steps",
                                       "--d-norm", "spectral", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert read_record(tmp_path / "r")["config"]["d_norm"] == "spectral"


def test_train_command_rejects_a_bad_setting_by_name(tmp_path):
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "1steps",
                                       "--d-maxout-pieces", "1", "--out", str(tmp_path / "r")])
    assert result.exit_code != 0 and "d_maxout_pieces" in result.output
