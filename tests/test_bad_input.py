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
from ganbench.config import Budget, RunConfig
from ganbench.errors import ConfigError
from ganbench.record import read_record
from ganbench.trainer import train

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
    from ganbench.budget import smallest_budget_text

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
    from ganbench.errors import GanbenchWarning

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
    from ganbench import suite, trainer
    from ganbench.benchmarks import load_benchmark

    calls = []
    real = trainer.metered_run
    monkeypatch.setattr(trainer, "metered_run", lambda *a, **k: calls.append(a[0].variant) or real(*a, **k))
    tasks = suite.plan([load_benchmark(bench_file(tmp_path, "1e9flops"))], "smoke", tmp_path / "out")
    assert len(tasks) == 2
    suite.check_budgets(tasks, "smoke")
    assert calls == ["vanilla"]


def test_regress_refuses_a_mistyped_stability_budget(tmp_path):
    from ganbench.regress import regress

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
    from ganbench.suite import measured_meter
    from ganbench.trainer import metered_run
    from ganbench.variants import VARIANTS

    data = load_dataset("ring8", "test")
    for name in VARIANTS.names():
        cfg = dataclasses.replace(ring8("1e9flops"), variant=name)
        assert measured_meter(cfg, data).next_cost() == metered_run(cfg, data)[2].next_cost(), name
