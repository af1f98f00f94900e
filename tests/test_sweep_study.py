"""Sweep bookkeeping without training: seeded draws, resumed draws, settings, scoring."""

import dataclasses
import math
from pathlib import Path

import pytest

from ganbench.config.benchmarks import discover
from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.sweep import SweepPlan, goal_for, write_sweep_report
from ganbench.sweep.scoring import TrialResult, best_trial, score_record

optuna = pytest.importorskip("optuna")
from ganbench.sweep.study import ask_new, open_variant_study, resumable, suggest_all  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RING8 = discover(ROOT / "benchmarks", ("ring8",))[0]


def plan(out, seed=0, sampler="random", variants=("vanilla", "wgan-gp")):
    return SweepPlan(RING8, variants, 4, "smoke", "wide", sampler, seed, out)


def drawn(out, seed=0, sampler="random", variant="wgan-gp", n=4):
    vs = open_variant_study(plan(out, seed, sampler), variant)
    return [params for _, params in ask_new(vs, n, sampler, seed)]


def test_same_seed_same_configurations_other_seed_others(tmp_path):
    first = drawn(tmp_path / "a")
    assert first == drawn(tmp_path / "b")
    assert first != drawn(tmp_path / "c", seed=1)
    assert len({p["lr"] for p in first}) == 4
    assert set(first[0]) == {"beta1", "lr", "n_critic", "gp_weight"}
    assert all(1e-5 <= p["lr"] <= 1e-2 and 1 <= p["n_critic"] <= 5 for p in first)
    assert drawn(tmp_path / "d", sampler="tpe") == drawn(tmp_path / "e", sampler="tpe")


def test_variants_share_their_common_draws(tmp_path):
    vanilla = drawn(tmp_path, variant="vanilla")
    wgan = drawn(tmp_path, variant="wgan-gp")
    assert [{k: p[k] for k in ("beta1", "lr", "n_critic")} for p in wgan] == vanilla


def test_a_draw_killed_half_way_resumes_to_the_same_configuration(tmp_path):
    reference = drawn(tmp_path / "ref", n=1)[0]
    vs = open_variant_study(plan(tmp_path / "cut"), "wgan-gp")
    trial = vs.study.ask()
    first = next(iter(vs.space))
    suggest_all(dataclasses.replace(vs, space={first: vs.space[first]}), trial, "random", 0)  # "killed" here
    again = open_variant_study(plan(tmp_path / "cut"), "wgan-gp")  # a new invocation
    assert resumable(again, "random", 0, limit=4) == [(0, reference)]
    assert resumable(again, "random", 0, limit=0) == []  # a sweep of 0..limit-1 leaves it waiting
    assert ask_new(again, 0, "random", 0) == []


def test_other_settings_on_the_same_results_are_refused(tmp_path):
    open_variant_study(plan(tmp_path), "vanilla")
    with pytest.raises(ConfigError, match="seed: was 0, now 1"):
        open_variant_study(plan(tmp_path, seed=1), "vanilla")
    with pytest.raises(ConfigError, match="sampler"):
        open_variant_study(plan(tmp_path, sampler="tpe"), "vanilla")


def test_plan_rejects_unknown_variants_and_samplers(tmp_path):
    with pytest.raises(ConfigError, match="no variant"):
        plan(tmp_path, variants=("wgan-clip",))
    with pytest.raises(ConfigError, match="unknown sampler"):
        plan(tmp_path, sampler="grid")
    with pytest.raises(ConfigError, match="no search space 'medium'"):
        open_variant_study(dataclasses.replace(plan(tmp_path), space="medium"), "vanilla")


def test_goals_take_directions_from_the_report_naming():
    modes = goal_for("modes")
    assert (modes.direction, modes.failure) == ("maximize", 0.0)
    fid = goal_for("fid/fmnist-cnn")
    assert (fid.direction, fid.failure) == ("minimize", math.inf)
    assert goal_for("reverse_kl").failure == math.inf
    with pytest.raises(ConfigError, match="no known direction"):
        goal_for("sharpness")


def test_records_score_diverged_runs_as_the_worst():
    goal = goal_for("modes")
    assert score_record({"status": "finished", "metrics": {"modes": 7.0}}, goal) == ("finished", 7.0)
    assert score_record({"status": "diverged", "metrics": {}}, goal) == ("diverged", 0.0)
    assert score_record({"status": "finished", "metrics": {"modes": math.nan}}, goal) == ("diverged", 0.0)
    assert score_record({"status": "finished", "metrics": {}, "snapshots": [{}]}, goal)[0] == "incomplete"
    assert score_record({"status": "interrupted"}, goal)[0] == "incomplete"
    with pytest.raises(GanbenchError, match="no metric 'modes'"):
        score_record({"status": "finished", "metrics": {"fid/x": 1.0}}, goal)


def test_best_trial_breaks_ties_by_reverse_kl_then_trial_number():
    goal = goal_for("modes")

    def trial(number, modes, kl, status="finished"):
        return TrialResult(number, f"trial{number}", number, status, modes, {"modes": modes, "reverse_kl": kl})

    trials = [trial(0, 8.0, 0.2), trial(1, 7.0, 0.0), trial(2, 8.0, 0.1), trial(3, 8.0, 0.1),
              trial(4, math.nan, 0.0, "incomplete")]
    assert best_trial(trials, goal).number == 2
    assert best_trial(trials[4:], goal) is None


def test_report_of_nothing_writes_nothing(tmp_path):
    assert write_sweep_report(tmp_path) == []
