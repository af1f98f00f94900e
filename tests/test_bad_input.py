"""Bad input that used to pass silently (issue 17): budgets too small to train,
data directories that do not exist, and what a new user's first mistakes do.

New names are imported inside the tests, so each test fails on its own
(not the whole file at import) on code without the behaviour it names.
"""

import re
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganbench.cli import main
from ganbench.config.run import Budget, RunConfig
from ganbench.core.errors import ConfigError
from ganbench.core.record import read_record
from ganbench.training.budget import Spent
from ganbench.training.trainer import train

# vanilla on ring8 (MLP width 128, batch 64): one critic step 29 655 040 FLOPs and one
# generator step 21 233 664 (counted by FlopCounterMode), so an iteration costs 50 888 704.
ITERATION = 29_655_040 + 21_233_664


def ring8(budget: str, **kw) -> RunConfig:
    return RunConfig(variant="vanilla", dataset="ring8", seed=0, budget=Budget.parse(budget), **kw)


def bench_file(directory: Path, budget: str, name: str = "tiny", fractions: str = "[0.5, 1.0]") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.toml"
    path.write_text(f'dataset = "ring8"\nvariants = ["vanilla"]\n[profiles.smoke]\nbudget = "{budget}"\n'
                    f'seeds = [0, 1]\nsnapshot_fractions = {fractions}\neval = {{ n_samples = 100 }}\n')
    return path


# --- 1. budgets -----------------------------------------------------------------------------

def test_budget_below_one_iteration_is_an_error_naming_cost_and_smallest_budget(tmp_path):
    with pytest.raises(ConfigError) as info:
        train(ring8("2e7flops"), tmp_path / "run")
    message = str(info.value)
    assert "cannot pay for one iteration" in message and f"{ITERATION:.4g}" in message
    assert "--budget 5.09e7flops" in message  # 50 888 704 rounded *up* to three digits
    assert not (tmp_path / "run" / "record.json").exists()  # no empty run recorded as finished


def test_the_smallest_budget_named_trains_and_one_flop_less_does_not(tmp_path):
    with pytest.raises(ConfigError) as info:
        train(ring8("1e3flops"), tmp_path / "a")
    smallest = re.search(r"--budget (\S+)", str(info.value)).group(1)
    with pytest.warns(UserWarning):  # one iteration, two snapshots: warned, see below
        record = train(ring8(smallest, snapshot_fractions=(0.5, 1.0)), tmp_path / "b")
    assert record["status"] == "finished" and record["spent"]["g_steps"] == 1
    with pytest.raises(ConfigError):
        train(ring8(f"{ITERATION - 1}flops"), tmp_path / "c")


def test_smallest_budget_text_rounds_up_and_parses():
    from ganbench.training.budget import smallest_budget_text

    for cost in (ITERATION, 1.0001e9, 1e9, 999.5, 10_282_467_328):
        text = smallest_budget_text("flops", cost)
        assert cost <= Budget.parse(text).limit < cost * 1.01, text


def test_cli_train_with_a_budget_too_small_exits_2_with_the_fix(tmp_path):
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "1e6flops",
                                       "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "cannot pay for one iteration" in result.output and "--budget 5.09e7flops" in result.output
    assert "finished" not in result.output


def test_budget_for_fewer_iterations_than_snapshots_warns_with_the_count_that_repeats(tmp_path):
    # 1.6e8 FLOPs pay for 3 iterations; ten snapshot fractions: 7 repeat a generator.
    with pytest.warns(UserWarning, match=r"7 of the 10 snapshots will repeat") as caught:
        record = train(ring8("1.6e8flops"), tmp_path / "run")
    steps = [s["g_step"] for s in record["snapshots"]]
    assert record["spent"]["g_steps"] == 3 and len(steps) - len(set(steps)) == 7
    from ganbench.core.errors import GanbenchWarning

    assert all(issubclass(w.category, GanbenchWarning) for w in caught)


def test_prediction_of_repeated_snapshots_matches_the_trainer(tmp_path):
    """11 iterations for 10 fractions still repeat one (0.9 and 1.0 both at the last step)."""
    with pytest.warns(UserWarning, match=r"1 of the 10 snapshots will repeat"):
        record = train(ring8("6e8flops"), tmp_path / "run")  # 11 iterations of 50.9 MFLOPs
    steps = [s["g_step"] for s in record["snapshots"]]
    assert record["spent"]["g_steps"] == 11 and len(steps) - len(set(steps)) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train(ring8("1e9flops"), tmp_path / "quiet")  # 19 iterations, ten distinct snapshots: no warning


def test_seconds_budget_warns_after_training_when_snapshots_repeated(tmp_path):
    """Seconds cannot be checked in advance (the first iteration always runs); the
    trainer says afterwards that the snapshots repeat."""
    with pytest.warns(UserWarning, match=r"9 of 10 snapshots repeat"):
        record = train(ring8("1e-6s"), tmp_path / "run")
    assert record["spent"]["g_steps"] == 1


def test_step_cap_below_snapshot_count_warns(tmp_path):
    with pytest.warns(UserWarning, match=r"snapshots will repeat"):
        train(RunConfig(variant="vanilla", dataset="ring8", seed=0, budget=Budget.parse("1e9flops", max_g_steps=2)),
              tmp_path / "run")


def test_suite_refuses_a_mistyped_benchmark_budget_before_any_run(tmp_path):
    bench_file(tmp_path / "benchmarks", "2e6flops")
    result = CliRunner().invoke(main, ["run", "tiny", "--profile", "smoke", "--benchmarks-dir",
                                       str(tmp_path / "benchmarks"), "--out", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 2, result.output
    assert "benchmark 'tiny', profile 'smoke'" in result.output and "5.09e7flops" in result.output
    assert not (tmp_path / "out" / "runs").exists()  # nothing started


def test_suite_check_measures_each_model_once(tmp_path, monkeypatch):
    """Seeds share one measurement: the check stays fast on a large plan."""
    from ganbench.config.benchmarks import load_benchmark
    from ganbench.suite import tasks as suite
    from ganbench.training import trainer

    calls = []
    real = trainer.metered_run
    monkeypatch.setattr(trainer, "metered_run", lambda *a, **k: calls.append(a[0].variant) or real(*a, **k))
    tasks = suite.plan([load_benchmark(bench_file(tmp_path, "1e9flops"))], "smoke", tmp_path / "out")
    assert len(tasks) == 2
    suite.check_plan(tasks, "smoke")
    assert calls == ["vanilla"]


def test_regress_refuses_a_mistyped_stability_budget(tmp_path):
    from ganbench.regress.check import regress

    bench_file(tmp_path / "suite", "2e6flops")
    with pytest.raises(ConfigError, match=r"benchmark 'tiny', profile 'smoke'.*5\.09e7flops"):
        regress(tmp_path / "suite", tmp_path / "baseline", tmp_path / "out", workers=0)
    assert not (tmp_path / "out" / "runs").exists()


def test_sweep_refuses_a_mistyped_benchmark_budget(tmp_path):
    bench_file(tmp_path / "benchmarks", "2e6flops")
    with open(tmp_path / "benchmarks" / "tiny.toml", "a") as fh:
        fh.write('[search_space.wide]\nlr = { log_uniform = [1e-5, 1e-2] }\n')
    result = CliRunner().invoke(main, ["sweep", "tiny", "--trials", "1", "--profile", "smoke", "--benchmarks-dir",
                                       str(tmp_path / "benchmarks"), "--out", str(tmp_path / "out"), "--no-report"])
    assert result.exit_code == 2, result.output
    assert "benchmark 'tiny', profile 'smoke'" in result.output
    assert not list((tmp_path / "out").rglob("record.json"))


def test_flops_counted_on_meta_equal_the_cpu_count_for_every_variant():
    """The suite's check measures on the meta device; it must charge what the trainer charges."""
    import dataclasses

    from ganbench.datasets import load_dataset
    from ganbench.suite.tasks import measured_meter
    from ganbench.training.trainer import metered_run
    from ganbench.variants import VARIANTS

    data = load_dataset("ring8", "test")
    for name in VARIANTS.names():
        cfg = dataclasses.replace(ring8("1e9flops"), variant=name)
        assert measured_meter(cfg, data).next_cost(Spent()) == metered_run(cfg, data)[2].next_cost(Spent()), name


# --- 2. data directories --------------------------------------------------------------------

def tiny_fmnist(directory: Path, n: int = 12) -> Path:
    """A fashion-mnist directory in the true on-disk format (gzipped IDX), both splits."""
    from tests.test_datasets import write_mnist_like

    return write_mnist_like(directory, n_train=n)


def test_data_dir_that_does_not_exist_is_an_error_naming_it_and_the_option(tmp_path):
    from ganbench.datasets import load_dataset

    with pytest.raises(ConfigError, match=r"nowhere.*\(from --data-dir\) does not exist"):
        load_dataset("fashion-mnist", "train", tmp_path / "nowhere")
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match=r"a-file \(from --data-dir\) is not a directory"):
        load_dataset("ring8", "train", tmp_path / "a-file")


def test_ganbench_data_dir_that_does_not_exist_is_an_error_naming_the_variable(tmp_path, monkeypatch):
    from ganbench.datasets import load_dataset

    monkeypatch.setenv("GANBENCH_DATA_DIR", str(tmp_path / "typo"))
    with pytest.raises(ConfigError, match=r"typo \(from GANBENCH_DATA_DIR\) does not exist"):
        load_dataset("fashion-mnist", "test")


def test_cli_train_with_a_missing_data_dir_exits_2_before_training(tmp_path):
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", "fashion-mnist", "--budget",
                                       "1e12flops", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "does not exist" in result.output and "--data-dir" in result.output
    assert not (tmp_path / "r" / "record.json").exists()


def test_data_dir_without_the_files_falls_through_with_a_warning_naming_the_place_used(tmp_path, monkeypatch, caplog):
    from ganbench.datasets import idx, load_dataset

    debian = tiny_fmnist(tmp_path / "debian")
    monkeypatch.setitem(idx.SOURCES, "fashion-mnist", (str(debian), "FashionMNIST", "dataset-fashion-mnist"))
    (tmp_path / "empty").mkdir()
    with caplog.at_level("INFO", logger="ganbench.datasets"):
        split = load_dataset("fashion-mnist", "train", tmp_path / "empty")
    warned = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1 and "1. user directory" in warned[0].getMessage()
    assert f"Debian package files under {debian}" in warned[0].getMessage()
    assert split.source["source"] == f"Debian package files under {debian}"
    assert split.source["files"] == [str(debian / "train-images-idx3-ubyte.gz"), str(debian / "train-labels-idx1-ubyte.gz")]


def test_record_names_the_files_the_data_was_read_from(tmp_path, monkeypatch):
    data = tiny_fmnist(tmp_path / "fm", n=64)
    record = train(RunConfig(variant="vanilla", dataset="fashion-mnist", seed=0, budget=Budget.parse("1e12flops", 1),
                             batch_size=8, width=8, snapshot_fractions=(1.0,), data_dir=str(data)), tmp_path / "run")
    assert record["data"]["source"].startswith("user directory")
    assert record["data"]["files"] == [str(data / "train-images-idx3-ubyte.gz"), str(data / "train-labels-idx1-ubyte.gz")]
    assert read_record(tmp_path / "run")["data"] == record["data"]


def test_record_of_generated_data_names_the_generator(tmp_path):
    record = train(ring8("1e9flops", snapshot_fractions=(1.0,)), tmp_path / "run")
    generator = record["data"]["generator"]
    assert record["data"]["source"] == "generated" and generator["std"] == 0.01 and generator["seed"] == 0
    assert len(generator["centers"]) == 8 and generator["points"] == 100_000


def test_stacked_data_names_its_base_files(tmp_path):
    from ganbench.datasets import load_dataset

    data = tiny_fmnist(tmp_path / "fm")
    split = load_dataset("stacked-fashion-mnist", "test", data)
    assert split.source["files"][0] == str(data / "t10k-images-idx3-ubyte.gz")
    assert split.source["stacked"] == {"base": "fashion-mnist", "seed": 1}


# --- 3. a new user's other mistakes ---------------------------------------------------------

@pytest.mark.parametrize("args, option", [
    (["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "1e9flops", "--out", "x", "--threads", "0"],
     "--threads"),
    (["sweep", "ring8", "--trials", "1", "--workers", "-1"], "--workers"),
    (["sweep", "ring8", "--trials", "1", "--rerun-best", "-2"], "--rerun-best"),
])
def test_cli_rejects_out_of_range_counts(args, option, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and option in result.output, result.output


@pytest.mark.parametrize("device, says", [("foo", "is not a torch device"), ("cuda:0", "no usable CUDA device")])
def test_cli_train_rejects_a_device_it_cannot_use(device, says, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = CliRunner().invoke(main, ["train", "--variant", "vanilla", "--dataset", "ring8", "--budget", "1e9flops",
                                       "--device", device, "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and says in result.output, result.output


def test_run_with_a_variant_that_selects_nothing_is_an_error(tmp_path):
    bench_file(tmp_path / "benchmarks", "1e9flops")
    result = CliRunner().invoke(main, ["run", "tiny", "--profile", "smoke", "--variant", "vanila", "--benchmarks-dir",
                                       str(tmp_path / "benchmarks"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "no runs selected" in result.output and "vanila" in result.output


def test_ganbench_offline_reads_common_spellings_the_same_everywhere(monkeypatch):
    """Datasets and Inception weights read it alike (they used to differ on 'TRUE'; 'on' meant online)."""
    from ganbench.datasets.base import downloads_allowed
    from ganbench.extractors.inception import _offline

    for value, offline in [("1", True), ("TRUE", True), ("on", True), ("Yes", True), ("0", False), ("off", False),
                           ("False", False)]:
        monkeypatch.setenv("GANBENCH_OFFLINE", value)
        assert (downloads_allowed() is not offline) and _offline() is offline, value


def test_ganbench_offline_with_an_odd_value_is_an_error(monkeypatch):
    from ganbench.datasets.base import downloads_allowed

    monkeypatch.setenv("GANBENCH_OFFLINE", "maybe")
    with pytest.raises(ConfigError, match="GANBENCH_OFFLINE='maybe'"):
        downloads_allowed()


@pytest.mark.parametrize("text, says", [
    ('variants = []\n', "lists no variant"),
    ('variants = ["lsgan", "lsgan"]\n', "variants must not repeat"),
    ('[profiles.smoke]\nbudget = "1e9flops"\nseeds = [0, 1, 0]\n', "seeds must not repeat"),
    ('[profiles.smoke]\nbudget = "1e9flops"\neval = { n_real = 0 }\n', "n_real must be positive"),
    ('[profiles.smoke]\nbudget = "1e9flops"\neval = { extractor = "inceptoin" }\n', "unknown extractor 'inceptoin'"),
])
def test_benchmark_file_mistakes_fail_at_load(text, says, tmp_path):
    from ganbench.config.benchmarks import load_benchmark

    if "[profiles" not in text:
        text += '[profiles.smoke]\nbudget = "1e9flops"\n'
    path = tmp_path / "b.toml"
    path.write_text('dataset = "fashion-mnist"\n' + text)
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_benchmark(path)


def test_n_real_larger_than_the_test_split_fails_before_any_run(tmp_path, monkeypatch):
    from ganbench.config.benchmarks import load_benchmark
    from ganbench.suite import tasks as suite

    monkeypatch.setenv("GANBENCH_DATA_DIR", str(tiny_fmnist(tmp_path / "fm")))  # 20 test images
    path = tmp_path / "b.toml"
    path.write_text('dataset = "fashion-mnist"\nvariants = ["vanilla"]\n[profiles.smoke]\nbudget = "1e12flops"\n'
                    'seeds = [0]\ntrain = { width = 8 }\neval = { n_samples = 100, n_real = 50 }\n')
    tasks = suite.plan([load_benchmark(path)], "smoke", tmp_path / "out")
    with pytest.raises(ConfigError, match=r"profile 'smoke'.*n_real = 50.*test split has 20"):
        suite.check_plan(tasks, "smoke")


def finished_run(tmp_path) -> Path:
    run_dir = tmp_path / "run"
    train(ring8("1e9flops", snapshot_fractions=(1.0,)), run_dir)
    return run_dir


@pytest.mark.parametrize("rewrite", [
    lambda r: {**r, "schema_version": 2},
    lambda r: [r],
    lambda r: {k: v for k, v in r.items() if k != "snapshots"},
], ids=["newer-schema", "a-list", "missing-keys"])
def test_a_record_from_another_version_is_never_overwritten(rewrite, tmp_path):
    import json

    from ganbench.config.benchmarks import EvalSettings
    from ganbench.core.errors import GanbenchError
    from ganbench.suite.tasks import Task, execute

    run_dir = finished_run(tmp_path)
    path = run_dir / "record.json"
    path.write_text(json.dumps(rewrite(json.loads(path.read_text()))))
    before = path.read_bytes()
    with pytest.raises(GanbenchError, match=r"--force"):
        train(ring8("1e9flops", snapshot_fractions=(1.0,)), run_dir)
    outcome = execute(Task(ring8("1e9flops", snapshot_fractions=(1.0,)), str(run_dir), EvalSettings(n_samples=100)))
    assert outcome.status == "failed" and "--force" in outcome.error
    assert path.read_bytes() == before  # what another version computed is still there
    assert train(ring8("1e9flops", snapshot_fractions=(1.0,)), run_dir, force=True)["status"] == "finished"
