"""WGAN with weight clipping (Algorithm 1) and the trainer hooks it needs:
the variant's optimiser, an action after each critic step, a critic-step schedule
charged at its real cost."""

import pytest
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training.budget import BudgetMeter, Spent
from ganbench.training.trainer import build_run, train, train_iteration
from ganbench.variants import make_variant

REAL = torch.tensor([2.0, -1.0])
FAKE = torch.tensor([0.5, -3.0])


def wgan_run(**options):
    data = load_dataset("ring8", "train")
    config = RunConfig(variant="wgan", dataset="ring8", seed=0, budget=Budget.parse("1e9flops"),
                       batch_size=16, width=16, variant_options=options)
    return build_run(resolve(config, data.info.kind), data)


def test_wgan_objective_on_scores():
    v = make_variant("wgan")
    # critic: mean D(G(z)) - mean D(x) = (0.5 - 3)/2 - (2 - 1)/2 = -1.75; G: -mean D(G(z)) = 1.25
    assert v.d_objective(REAL, FAKE).item() == pytest.approx(-1.75)
    assert v.g_objective(FAKE).item() == pytest.approx(1.25)


def critic_max_seen_by(run, method):
    """Wrap ``run.variant.<method>`` to note max |p| of the critic each time it is called."""
    seen, original = [], getattr(run.variant, method)

    def spy(critic, *args):
        seen.append(max(p.abs().max().item() for p in critic.parameters()))
        return original(critic, *args)

    setattr(run.variant, method, spy)
    return seen


def test_every_critic_step_scores_with_clamped_weights_as_the_reference_code():
    """main.py l.185-186: the clamp comes before each critic step, so every critic loss
    is computed with weights in [-c, c]; the last update is left for the generator step."""
    run = wgan_run()
    assert max(p.abs().max().item() for p in run.critic.parameters()) > 0.01  # PyTorch's init exceeds c
    seen = critic_max_seen_by(run, "d_loss")
    g_seen = critic_max_seen_by(run, "g_loss")
    train_iteration(run, 3)
    assert len(seen) == 3 and all(m <= 0.01 for m in seen)
    assert g_seen[0] > 0.01  # the generator step sees the last (unclipped) RMSprop update


def test_algorithm_1_clips_after_every_update():
    run = wgan_run(clip_before_step=False)
    seen = critic_max_seen_by(run, "d_loss")
    g_seen = critic_max_seen_by(run, "g_loss")
    train_iteration(run, 3)
    assert seen[0] > 0.01 and all(m <= 0.01 for m in seen[1:])  # the first loss sees the init
    assert g_seen[0] <= 0.01


def test_wgan_trains_with_rmsprop_at_5e_5():
    run = wgan_run()
    for opt in (run.opt_d, run.opt_g):
        assert isinstance(opt, torch.optim.RMSprop)
        assert opt.param_groups[0]["lr"] == pytest.approx(5e-5)
    train_iteration(run, 1)
    state = run.opt_d.state[next(run.critic.parameters())]
    assert "square_avg" in state and state["square_avg"].abs().sum() > 0
    assert run.config.n_critic == 5
    assert run.config.d_norm == "none"  # the 2-D MLP has no batch norm: the record says so


def test_critic_schedule_of_the_reference_code():
    v = make_variant("wgan")
    steps = {g: v.critic_steps(g, 5) for g in (0, 1, 24, 25, 26, 499, 500, 501, 1000, 1001)}
    assert steps == {0: 100, 1: 100, 24: 100, 25: 5, 26: 5, 499: 5, 500: 100, 501: 5, 1000: 100, 1001: 5}
    off = make_variant("wgan", schedule=False)
    assert {off.critic_steps(g, 5) for g in range(0, 1200)} == {5}


def test_meter_predicts_the_scheduled_iteration():
    meter = BudgetMeter(Budget("flops", 1000.0), {"d_step": 10, "g_step": 1}, lambda g: 100 if g == 3 else 5)
    assert meter.iteration_flops(5) == 51
    assert meter.next_fits(Spent(flops=900, g_steps=2))  # 5 steps: 951 <= 1000
    assert not meter.next_fits(Spent(flops=900, g_steps=3))  # 100 steps: 1901 > 1000
    timed = BudgetMeter(Budget("seconds", 10.0), {"d_step": 10, "g_step": 1}, lambda g: 100 if g == 3 else 5)
    timed.record_iteration(0.5, 5)
    assert timed.next_cost(Spent(g_steps=2)) == pytest.approx(0.5)
    assert timed.next_cost(Spent(g_steps=3)) == pytest.approx(0.5 * 1001 / 51)


def test_budget_charges_each_iteration_its_critic_steps(tmp_path):
    v = make_variant("wgan")
    config = RunConfig(variant="wgan", dataset="ring8", seed=0, budget=Budget.parse("3e8flops"),
                       batch_size=16, width=16, snapshot_fractions=(1.0,))
    r = train(config, tmp_path / "run")
    spent, step = r["spent"], r["step_flops"]
    expected_d = sum(v.critic_steps(g, 5) for g in range(spent["g_steps"]))
    assert 0 < spent["g_steps"] < 25  # the budget ends inside the 100-step warm-up
    assert spent["d_steps"] == expected_d == 100 * spent["g_steps"]
    assert spent["flops"] == expected_d * step["d_step"] + spent["g_steps"] * step["g_step"]
    assert 0 <= 3e8 - spent["flops"] < 100 * step["d_step"] + step["g_step"]
    assert spent["images_seen"] == 16 * (2 * expected_d + spent["g_steps"])
