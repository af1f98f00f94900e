"""PacGAN's code as an option set (fjxmlzn/PacGAN synthetic_data_experiments/):
simultaneous update, batch norm per pack slot, fixed packs reshuffled each
epoch, one evaluation z, evaluation with population statistics."""

import copy
import dataclasses

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.core.io import atomic_torch_save
from ganbench.datasets import load_dataset
from ganbench.evaluation.evaluate import snapshot_samples
from ganbench.models import MlpGenerator, generate_per_slot, pack_samples
from ganbench.training.budget import count_flops
from ganbench.training.packs import FixedPacks
from ganbench.training.samples import generate, generate_for
from ganbench.training.trainer import build_run, metered_run, train_iteration
from ganbench.training.update import critic_schedule

RECIPE = dict(update="simultaneous", g_per_slot=True, real_packs="fixed", eval_z_seed=2333)


def cfg(**kw):
    kw.setdefault("budget", Budget.parse("4steps"))
    return RunConfig(variant=kw.pop("variant", "vanilla"), dataset="ring8", seed=kw.pop("seed", 0), batch_size=4,
                     width=8, **kw)


@pytest.fixture(scope="module")
def ring8():
    return load_dataset("ring8", "train")


def test_simultaneous_update_takes_both_gradients_from_the_old_weights(ring8):
    run = build_run(resolve(cfg(pack=2, update="simultaneous"), "points"), ring8)
    real, z = run.real_batch(), run.sample_z()
    run.real_batch, run.sample_z = (lambda: real), (lambda: z)
    lr = 0.1
    run.opt_d = torch.optim.SGD(run.critic.parameters(), lr=lr)
    run.opt_g = torch.optim.SGD(run.generator.parameters(), lr=lr)
    g0, d0 = copy.deepcopy(run.generator), copy.deepcopy(run.critic)
    # By hand: the non-saturating losses at the old weights, one SGD step each.
    fake = pack_samples(g0(z), 2)
    d_loss = F.softplus(-d0(real)).mean() + F.softplus(d0(fake.detach())).mean()
    d_grads = torch.autograd.grad(d_loss, list(d0.parameters()))
    g_grads = torch.autograd.grad(F.softplus(-d0(fake)).mean(), list(g0.parameters()))
    d_losses, _ = train_iteration(run)
    assert d_losses == [pytest.approx(d_loss.item())]
    for p, p0, g in zip(run.critic.parameters(), d0.parameters(), d_grads):
        assert torch.allclose(p, p0 - lr * g, atol=1e-6)
    for p, p0, g in zip(run.generator.parameters(), g0.parameters(), g_grads):
        assert torch.allclose(p, p0 - lr * g, atol=1e-6)
    # The alternating order (generator against the stepped critic) gives another generator.
    d1 = copy.deepcopy(d0)
    with torch.no_grad():
        for p, g in zip(d1.parameters(), d_grads):
            p -= lr * g
    g_alt = torch.autograd.grad(F.softplus(-d1(pack_samples(g0(z), 2))).mean(), list(g0.parameters()))
    assert not all(torch.allclose(a, b, atol=1e-6) for a, b in zip(g_alt, g_grads))


def test_simultaneous_step_is_charged_one_generator_forward_less(ring8):
    _, alternating, _ = metered_run(cfg(pack=2), ring8)
    run, simultaneous, meter = metered_run(cfg(pack=2, update="simultaneous"), ring8)
    forward = count_flops(lambda: run.generator(run.sample_z()))
    assert simultaneous["g_step"] == alternating["g_step"]  # fake forward + critic + both backwards
    assert alternating["d_step"] - simultaneous["d_step"] == forward  # the critic's own fake forward is shared
    assert meter.critic_steps(0) == 1 and meter.iteration_flops(1) == sum(simultaneous.values())


def test_simultaneous_run_counts_one_real_and_one_fake_batch_per_step(tmp_path):
    from ganbench.training.trainer import train

    record = train(cfg(pack=2, update="simultaneous", real_packs="fixed", g_per_slot=True), tmp_path)
    assert record["spent"]["g_steps"] == record["spent"]["d_steps"] == 4
    assert record["spent"]["images_seen"] == 4 * (4 * 2) * 2  # steps x (batch x pack) x (real + fake)
    assert record["config"]["update"] == "simultaneous" and record["config"]["real_packs"] == "fixed"


def test_simultaneous_needs_one_critic_step_and_options_are_checked():
    with pytest.raises(ConfigError, match="n_critic = 5"):
        resolve(cfg(variant="wgan-gp", update="simultaneous"), "points")
    wgan = build_run(resolve(cfg(variant="wgan", update="simultaneous", n_critic=1), "points"), load_dataset("ring8", "train"))
    with pytest.raises(ConfigError, match="schedules 100"):
        critic_schedule(wgan)
    for key, value in (("update", "parallel"), ("real_packs", "sometimes"), ("eval_bn", "running")):
        with pytest.raises(ConfigError, match=f"{key} '{value}' is unknown"):
            cfg(**{key: value})


def test_per_slot_generator_normalises_each_slot_on_its_own():
    torch.manual_seed(1)
    g = MlpGenerator(2, 16, 2, batch_norm=True)
    z = torch.randn(30, 2) * 3 + 1
    alone = copy.deepcopy(g)
    out = generate_per_slot(g, z, 3)
    assert out.shape == (10, 6)
    slot_runs = []
    for k in range(3):
        gk = copy.deepcopy(alone)
        assert torch.allclose(out[:, 2 * k:2 * k + 2], gk(z[k::3]), atol=1e-6)
        slot_runs.append(gk)
    assert not torch.allclose(out, pack_samples(copy.deepcopy(alone)(z), 3), atol=1e-3)  # one call: joint statistics
    # One running-statistics update with the slots' mean statistics (PacGAN averages its m bn_updates).
    for name, buffer in g.state_dict().items():
        if "running" in name:
            expected = torch.stack([gk.state_dict()[name] for gk in slot_runs]).mean(0)
            assert torch.allclose(buffer, expected, atol=1e-6), name
        if "num_batches_tracked" in name:
            assert buffer.item() == 1
    out.sum().backward()  # the graph survives the buffer swaps
    assert all(p.grad is not None for p in g.parameters())


def test_fixed_packs_are_the_same_every_epoch_in_a_new_order():
    packs = FixedPacks(n_points=12, pack=2, batch_size=4, seed=3)
    assert packs.batches_per_epoch == 3
    epochs = [torch.cat([packs.batch_indices(3 * e + i) for i in range(3)]).view(-1, 2) for e in range(3)]
    pack_set = sorted(map(tuple, packs.slots.tolist()))
    for epoch in epochs:
        assert sorted(map(tuple, epoch.tolist())) == pack_set  # every pack once per epoch
    assert not torch.equal(epochs[0], epochs[1]) and not torch.equal(epochs[1], epochs[2])
    assert not torch.equal(packs.slots[:, 0], packs.slots[:, 1])  # slots are independent resamples
    assert torch.equal(FixedPacks(12, 2, 4, 3).slots, packs.slots)
    assert not torch.equal(FixedPacks(12, 2, 4, 4).slots, packs.slots)
    assert [packs.next_indices().tolist() for _ in range(4)] == [packs.batch_indices(i).tolist() for i in range(4)]


def test_run_draws_its_real_batches_from_the_fixed_packs(ring8):
    run = build_run(resolve(cfg(pack=2, real_packs="fixed", seed=5), "points"), ring8)
    first = run.real_batch()
    idx = run.fixed_packs.batch_indices(0).view(-1, 2)
    assert torch.equal(first, torch.cat([ring8.data[idx[:, 0]], ring8.data[idx[:, 1]]], dim=1))
    assert run.fixed_packs.drawn == 1
    run2, _, _ = metered_run(cfg(pack=2, real_packs="fixed", seed=5), ring8)
    assert run2.fixed_packs.drawn == 0  # counting FLOPs draws a batch that does not count
    with pytest.raises(ConfigError, match="at least batch_size"):
        FixedPacks(3, 2, 4, 0)


class Identity(nn.Module):
    def forward(self, z):
        return z


def test_every_snapshot_is_scored_on_the_same_z_and_eval_z_seed_fixes_it_across_seeds(tmp_path):
    info = load_dataset("ring8", "test").info
    for name in ("a.pt", "b.pt"):
        atomic_torch_save(tmp_path / name, {})
    config = resolve(cfg(), "points")

    def z_of(config, path):
        return snapshot_samples(tmp_path, {"path": path}, config, info, 50, generator=Identity())

    assert torch.equal(z_of(config, "a.pt"), z_of(config, "b.pt"))
    other_seed = dataclasses.replace(config, seed=1)
    assert not torch.equal(z_of(config, "a.pt"), z_of(other_seed, "a.pt"))
    fixed = dataclasses.replace(config, eval_z_seed=2333)
    assert torch.equal(z_of(fixed, "a.pt"), z_of(dataclasses.replace(fixed, seed=1), "b.pt"))
    assert torch.equal(z_of(fixed, "a.pt"), torch.randn(50, 2, generator=torch.Generator().manual_seed(2333)))


def manual_forward(g: MlpGenerator, z, population: bool):
    x = z
    for layer in g.net:
        if isinstance(layer, nn.BatchNorm1d):
            mean = layer.running_mean if population else x.mean(0)
            var = layer.running_var if population else x.var(0, unbiased=False)
            x = (x - mean) / torch.sqrt(var + layer.eps) * layer.weight + layer.bias
        else:
            x = layer(x)
    return x


def test_population_statistics_evaluation_against_a_manual_batch_norm():
    torch.manual_seed(2)
    g = MlpGenerator(2, 16, 2, batch_norm=True)
    for _ in range(5):  # running statistics away from (0, 1)
        g(torch.randn(64, 2) * 2 + 1)
    state = copy.deepcopy(g.state_dict())
    z = torch.randn(40, 2, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        population = generate(g, 40, 2, seed=9, bn="population")
        batch = generate(g, 40, 2, seed=9, bn="batch")
        assert torch.allclose(population, manual_forward(g, z, True), atol=1e-5)
        assert torch.allclose(batch, manual_forward(g, z, False), atol=1e-5)
    assert not torch.allclose(population, batch, atol=1e-3)
    assert all(torch.equal(state[k], v) for k, v in g.state_dict().items())  # scoring moved no statistic
    assert g.training
    config = dataclasses.replace(resolve(cfg(), "points"), eval_bn="batch", eval_z_seed=9)
    assert torch.equal(generate_for(g, 40, config), batch)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_repro_benchmarks_run_pacgans_code_in_paper_and_cpu_profiles(name):
    from pathlib import Path

    from ganbench.config.benchmarks import load_benchmark

    bench = load_benchmark(Path(__file__).resolve().parents[1] / "benchmarks" / "repro" / f"pacgan-{name}.toml")
    for profile in ("paper", "cpu"):
        for config in bench.run_configs(profile):
            assert {k: getattr(config, k) for k in RECIPE} == RECIPE and config.eval_bn == "population"
    assert all(c.update == "alternating" and c.real_packs == "fresh" for c in bench.run_configs("smoke"))


def test_gradients_land_in_their_parameters_layout_and_step_the_right_elements():
    """torch's fused CPU Adam reads a gradient with its parameter's strides. autograd.grad
    gives a stacked weight under vmap (a seed group's) a transposed gradient; backward_into
    (the simultaneous update's) lands it in the parameter's layout, so Adam steps as plain Adam."""
    from torch.func import vmap

    from ganbench.training.update import backward_into

    torch.manual_seed(0)
    x = torch.randn(2, 5, 3)
    steps = []
    for fused in (False, True):
        w = torch.nn.Parameter(torch.arange(24.0).reshape(2, 4, 3) / 24 - 0.5)  # two members' [4, 3] weights
        loss = vmap(lambda wi, xi: torch.nn.functional.linear(xi, wi).square().sum())(w, x).sum()
        expected, = torch.autograd.grad(loss, [w], retain_graph=True)
        # the precondition: autograd.grad's layout differs from the parameter's (torch 2.4-2.14); should a
        # torch change that, this fails loudly rather than the test passing without testing anything
        assert expected.stride() != w.stride()
        backward_into(loss, [w])
        assert w.grad.stride() == w.stride() and torch.equal(w.grad, expected)
        before = w.detach().clone()
        torch.optim.Adam([w], lr=1.0, fused=fused).step()
        assert torch.allclose(w.detach() - before, -expected.sign(), atol=1e-6)  # Adam's first step: lr * sign
        steps.append(w.detach().clone())
    assert torch.allclose(steps[0], steps[1], atol=1e-6)
