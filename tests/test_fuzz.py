"""Fuzzed benchmark files and command lines: only clear errors (GanbenchError, or a
click usage error with exit status 2), never a traceback. Part of the fault matrix
of tests/test_faults.py, kept apart for its size."""

import dataclasses
import json
import math
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

import ganbench.regress.check
import ganbench.suite.executors
from ganbench.cli import GanbenchGroup, main
from ganbench.cli.regress import regress_command
from ganbench.config.benchmarks import load_benchmark
from ganbench.config.run import Budget
from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.suite.tasks import Outcome
from ganbench.training.trainer import train
from ganbench.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
# No shrinking: a failing example here may train a model, and shrinking reruns hundreds of
# them; the examples are small already and the falsifying one is printed as found.
FUZZ = settings(max_examples=50, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def assert_clean(result):
    """Exit 0/1, or 2 with a message; an exception other than SystemExit is a traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"traceback for {result.output!r}") from result.exception
    assert result.exit_code in (0, 1, 2) and "Traceback" not in result.output


# --- benchmark files ----------------------------------------------------------------------------------------------

def toml_value(v) -> str:
    """A TOML inline value (TOML accepts JSON string escapes)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else "inf" if v == math.inf else "-inf" if v == -math.inf else repr(v)
    if isinstance(v, (int, str)):
        return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f") if isinstance(v, str) else str(v)
    if isinstance(v, list):
        return "[" + ", ".join(map(toml_value, v)) + "]"
    return "{" + ", ".join(f"{toml_value(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def to_toml(data: dict) -> str:
    return "".join(f"{toml_value(k)} = {toml_value(v)}\n" for k, v in data.items())


words = st.sampled_from(["ring8", "grid25", "fashion-mnist", "lsgan", "wgan-gp", "4e10flops", "1e400flops", "10s",
                         "0flops", "all", "last", "fmnist-cnn", "batch", "layer", "none", "-1-1-0", "modes"])
scalars = st.one_of(st.integers(-3, 100), st.floats(), st.booleans(), st.text(max_size=8), words)
anything = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                           max_size=3), max_leaves=8)


def table(required=(), **keys):
    """A table of ``keys`` (``required`` always present, others maybe), values mostly valid, sometimes junk."""
    values = {k: st.one_of(*[v] * 9, anything) for k, v in keys.items()}  # junk 1 time in 10
    return st.fixed_dictionaries({k: values.pop(k) for k in required}, optional=values)


small = st.integers(-2, 64)
profile = table(required=("budget",), budget=st.sampled_from(["4e10flops", "10s", "1e400flops", "0flops", "x"]),
                seeds=st.lists(st.integers(-2, 5), max_size=3), max_g_steps=small,
                snapshot_fractions=st.lists(st.floats(-1, 2), max_size=3),
                train=table(batch_size=small, width=small, z_dim=small, log_every=small, checkpoint_every=small),
                eval=table(n_samples=small, n_real=small, extractor=words, snapshots=words))
override = table(lr=st.floats(), betas=st.lists(st.floats(), max_size=3), n_critic=small, d_norm=words,
                 options=st.dictionaries(st.sampled_from(["gp_weight", "coding", "margin_scale", "x"]), scalars))
# dataset and profiles are usually valid so that most examples get as far as building models.
benchmark = st.fixed_dictionaries(
    {"dataset": st.one_of(st.sampled_from(["ring8", "grid25"]), words),
     "profiles": st.dictionaries(st.sampled_from(["smoke", "quick", "full", "huge"]), profile, min_size=1, max_size=2)},
    optional={"variants": st.lists(st.sampled_from(VARIANTS.names() + ["nope"]), max_size=3),
              "overrides": st.dictionaries(st.sampled_from(["lsgan", "wgan-gp", "nope"]), override, max_size=2),
              "description": anything, "primary_metric": anything})

# Valid files with random valid values, so that a real share of the examples trains
# (half the examples; the junk-heavy strategy above mostly exercises refusals).
positive = st.integers(1, 64)
valid_profile = st.fixed_dictionaries(
    {"budget": st.sampled_from(["4e10flops", "1e9flops", "10s"])},
    optional={"seeds": st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True),
              "max_g_steps": positive,
              "snapshot_fractions": st.sampled_from([[1.0], [0.5, 1.0], [0.25, 0.5, 0.75, 1.0]]),
              "train": st.fixed_dictionaries({}, optional={"batch_size": positive, "width": positive,
                                                           "z_dim": st.integers(1, 8), "log_every": positive,
                                                           "checkpoint_every": positive})})
valid_benchmark = st.fixed_dictionaries(
    {"dataset": st.sampled_from(["ring8", "grid25"]),
     "profiles": st.dictionaries(st.sampled_from(["smoke", "quick"]), valid_profile, min_size=1, max_size=2)},
    optional={"variants": st.lists(st.sampled_from(VARIANTS.names()), min_size=1, max_size=2, unique=True),
              "overrides": st.fixed_dictionaries({}, optional={
                  "lsgan": st.fixed_dictionaries({}, optional={"lr": st.floats(1e-5, 1e-2), "n_critic": st.integers(1, 3)}),
                  "wgan-gp": st.fixed_dictionaries({}, optional={"options": st.fixed_dictionaries(
                      {"gp_weight": st.floats(0, 20)})})})})


KNOWN_BAD = [  # found by this fuzzer; each must be a ConfigError, not a traceback mid-suite
    {"dataset": "ring8", "profiles": {"smoke": {"budget": "1e9flops", "train": {"width": -1}}}},
    {"dataset": "ring8", "profiles": {"smoke": {"budget": "1e9flops"}}, "overrides": {"lsgan": {"lr": math.nan}}},
    {"dataset": "ring8", "profiles": {"smoke": {"budget": "1e9flops"}}, "overrides": {"lsgan": {"n_critic": 0}}},
    {"dataset": "ring8", "profiles": {"smoke": {"budget": "1e9flops", "snapshot_fractions": [{}]}}},
    {"dataset": "ring8", "profiles": {"smoke": {"budget": "1e9flops"}},
     "overrides": {"wgan-gp": {"options": {"gp_weight": "abc"}}}},
]


def load_and_train_briefly(text: str) -> str:
    """Load a benchmark file, then train each (points) run of it for one logged step.

    A file that loads is valid: a GanbenchError while planning or training it is a
    bug (validation missed something), not a clear refusal, so it propagates. The one
    exception is the budget check that runs before training (the suite runs it for
    the whole plan up front): a budget too small for one iteration is refused there.
    Returns what happened: "refused", "loaded" or "trained".
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            bench = load_benchmark(path)
        except GanbenchError:
            return "refused"
        outcome = "loaded"
        for name in bench.profiles:
            for config in {c.variant: c for c in bench.run_configs(name)}.values():  # one seed per variant
                if config.dataset in ("ring8", "grid25"):  # cheap enough to train for real
                    brief = Budget(config.budget.unit, config.budget.limit, max_g_steps=1)
                    try:
                        record = train(dataclasses.replace(config, budget=brief, log_every=1), Path(tmp) / "run")
                    except ConfigError as exc:
                        assert "cannot pay for one iteration" in str(exc), exc
                        return "refused"
                    assert record["status"] in ("finished", "diverged") and record["spent"]["g_steps"] <= 1
                    shutil.rmtree(Path(tmp) / "run")
                    outcome = "trained"
        event(outcome)
        return outcome


def test_fuzzed_benchmark_files_load_and_train_or_fail_clearly():
    outcomes = []

    @settings(FUZZ, max_examples=80, database=None)  # mostly cheap examples; some train one step
    @given(data=st.one_of(benchmark, valid_benchmark))
    @example(data=KNOWN_BAD[0]).via("regression")
    @example(data=KNOWN_BAD[1]).via("regression")
    @example(data=KNOWN_BAD[2]).via("regression")
    @example(data=KNOWN_BAD[3]).via("regression")
    @example(data=KNOWN_BAD[4]).via("regression")
    def load_train(data):
        outcomes.append(load_and_train_briefly(to_toml(data)))

    load_train()
    assert outcomes[:len(KNOWN_BAD)] == ["refused"] * len(KNOWN_BAD)
    # The generator keeps most values valid: a real share of the examples must train, or
    # the fuzzer only exercises the refusals.
    assert outcomes.count("trained") >= 0.1 * len(outcomes), {o: outcomes.count(o) for o in set(outcomes)}


@FUZZ
@given(text=st.text(max_size=200))
def test_garbage_benchmark_text_is_a_clear_error(text):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "junk.toml").write_text(text)
        try:
            load_benchmark(Path(tmp) / "junk.toml")
        except GanbenchError:
            pass


# --- command lines ------------------------------------------------------------------------------------------------

def maybe(option, values):
    return st.one_of(st.just([]), values.map(lambda v: [option, v]))


junk = st.text(alphabet="abcxyz019-.=' e", max_size=8)
def always(option, values):
    return values.map(lambda v: [option, v])


def mostly(valid, *invalid):
    """Valid values 9 times in 10: most lines get to train, the rest must be refused clearly."""
    bad = st.one_of(st.sampled_from(invalid), junk)
    # one_of(*[valid] * 9, bad) would not do: hypothesis merges equal branches (50/50).
    return st.sampled_from(list(valid) * 9 + [None] * len(valid)).flatmap(lambda v: bad if v is None else st.just(v))


train_args = st.tuples(  # the required options are (nearly) always there, so most lines get to train
    always("--variant", mostly(["lsgan", "wgan-gp", "loss-sensitive", "vanilla", "vanilla-mm"], "nope")),
    always("--dataset", mostly(["ring8", "grid25"], "nope")),
    always("--budget", mostly(["1e9flops", "50GFLOPs", "0.2s"], "1e400flops", "-1flops", "nanflops", "0s", "flops",
                              "1e9")),
    always("--max-g-steps", mostly(["1", "2"], "0", "-3", "abc")),  # bounds the work
    maybe("--seed", mostly([str(i) for i in range(4)], "-2", "-1")),
    maybe("--batch-size", mostly([str(i) for i in range(1, 33)], "-2", "0")),
    maybe("--width", mostly([str(i) for i in range(1, 33)], "-2", "0")),
    maybe("--lr", mostly(["1e-4", "2e-3"], "0", "-1", "nan", "inf", "x")),
    maybe("--n-critic", mostly(["1", "2", "3"], "-1", "0")),
    maybe("--option", st.sampled_from(["gp_weight=5", "gp_weight=abc", "coding='-1-1-0'", "coding=bogus", "=3",
                                       "x", "margin_scale=-1", "gamma=nan", "lipschitz=weight-decay"])),
    maybe("--device", mostly(["cpu"], "cuda:7", "tpu", "")),
).map(lambda parts: [word for part in parts for word in part])


def test_fuzzed_train_command_lines():
    exits = []

    @settings(FUZZ, database=None)
    @given(args=train_args)
    def train_line(args):
        out = tempfile.mkdtemp()
        try:
            result = CliRunner().invoke(main, ["train", "--out", out] + args)
            event(f"exit {result.exit_code}")
            assert_clean(result)
            trained = result.exit_code == 0 and " G steps, " in result.output
            exits.append("trained" if trained else f"exit {result.exit_code}")
        finally:
            shutil.rmtree(out, ignore_errors=True)

    train_line()
    # About a third of the lines are fully valid (9 in 10 per option); 10 % leaves room for chance.
    assert exits.count("trained") >= 0.1 * len(exits), {e: exits.count(e) for e in set(exits)}


run_args = st.tuples(
    st.lists(st.sampled_from(["ring8", "grid25", "nope", ""]), max_size=2),
    maybe("--profile", st.sampled_from(["smoke", "quick", "full", "huge"])),
    maybe("--workers", st.one_of(st.integers(-2, 3).map(str), junk)),
    maybe("--device", st.sampled_from(["cpu", "cuda", "tpu"])),
    maybe("--executor", st.sampled_from(["local", "ray", "slurm"])),
    maybe("--variant", st.sampled_from(["lsgan", "nope"])),
    st.sampled_from([[], ["--all"]]),
).map(lambda parts: [word for part in parts for word in part])


@FUZZ
@given(args=run_args)
def test_fuzzed_run_command_lines(args, monkeypatch):
    monkeypatch.setattr(ganbench.suite.executors, "run_local", lambda tasks, workers=None, **_: iter(()))  # plan, never train
    monkeypatch.setattr(ganbench.suite.executors, "run_ray", lambda tasks, address=None, **_: iter(()))
    out = tempfile.mkdtemp()
    try:
        result = CliRunner().invoke(main, ["run", "--out", out, "--no-report", "--benchmarks-dir",
                                           str(ROOT / "benchmarks")] + args)
        event(f"exit {result.exit_code}")
        assert_clean(result)
    finally:
        shutil.rmtree(out, ignore_errors=True)


regress_words = st.sampled_from(["--update-baseline", "--reason", "why", "", "--workers", "-1", "0", "2", "x",
                                 "--junit", "j.xml", ".", "--suite", str(ROOT / "benchmarks" / "stability"),
                                 "nowhere", "--benchmark", "ring8", "ring9", "--variant", "lsgan", "nope",
                                 "--baseline", "base", "--out", "scratch"])


@FUZZ
@given(args=st.lists(regress_words, max_size=7))
def test_fuzzed_regress_command_lines(args, monkeypatch):
    def crash_every_run(tasks, workers):  # no training: every run "fails", the rest is real
        return iter([Outcome(t.run_id, "failed", error="fuzz: not run") for t in tasks])

    monkeypatch.setattr(ganbench.regress.check, "run_tasks", crash_every_run)
    runner = CliRunner()
    with runner.isolated_filesystem():
        result = runner.invoke(GanbenchGroup(commands=[regress_command]), ["regress"] + args)
        event(f"exit {result.exit_code}")
        assert_clean(result)
        assert not Path("base").exists() or not list(Path("base").rglob("*.json")), "a failed suite became a baseline"


BRIEF = ["--variant", "lsgan", "--dataset", "ring8", "--max-g-steps", "10"]  # 10: one loss-trace point


@pytest.mark.parametrize("args", [
    ["train", *BRIEF, "--budget", "1e9flops", "--width", "-1"],
    ["train", *BRIEF, "--budget", "1e9flops", "--lr", "nan"],
    ["train", *BRIEF, "--budget", "1e9flops", "--n-critic", "0"],
    ["train", *BRIEF, "--budget", "1e9flops", "--variant", "wgan-gp", "--option", "gp_weight=abc"],
    ["train", *BRIEF, "--budget", "1e400flops"],  # an infinite budget: without a step cap it never ends
    ["run", "ring8", "--workers", "-1", "--benchmarks-dir", str(ROOT / "benchmarks")],
])
def test_known_bad_values_are_usage_errors(args, tmp_path):
    """Found by the fuzzers above: each must be refused before any work."""
    result = CliRunner().invoke(main, args + ["--out", str(tmp_path / "out")])
    assert_clean(result)
    assert result.exit_code == 2, result.output
