"""Seeds trained together (training/group.py, training/streams.py) against the same
seeds trained alone: same random numbers, same weights to rounding, bit-identical
reruns, a diverging member isolated, mixed settings refused."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.func import vmap

from ganbench.config.run import Budget, RunConfig
from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.core.io import safe_torch_load
from ganbench.core.record import comparable, read_record
from ganbench.training import group as group_module
from ganbench.training import packs
from ganbench.training.streams import MemberStreams
from ganbench.training.trainer import Run, train, train_seeds
from ganbench.variants import VARIANTS

STEPS, SEEDS = 10, (0, 1, 2)


def ring8(variant: str, seed: int = 0, steps: int = STEPS, **changes) -> RunConfig:
    return RunConfig(variant, "ring8", seed, Budget.parse("1e12flops", max_g_steps=steps), width=32, batch_size=64,
                     checkpoint_every=5, snapshot_fractions=(0.5, 1.0), **changes)


def seeds_of(config: RunConfig) -> list[RunConfig]:
    return [replace(config, seed=s) for s in SEEDS]


def load(run_dir: Path) -> dict:
    return safe_torch_load(Path(run_dir) / "checkpoint.pt")


def ctrl_c_at(g_step: int):
    """A trainer callback that interrupts (as Ctrl-C does) after generator step ``g_step``."""
    def callback(info):
        if info["g_step"] == g_step:
            raise KeyboardInterrupt
    return callback


def tensors(payload: dict, key: str) -> dict:
    return payload.get(key, {})


# Every variant on ring8 (hinge: spectral norm's power iteration, in place per member), and the
# cases that draw inside a penalty or keep a moving EMA over batch-norm buffers.
CASES = {name: ring8(name) for name in VARIANTS.names()}
# hinge's ring8 run is chaotic at rounding level: a 1e-7 relative nudge of seed 1's critic, trained
# alone, moves its weights by 7e-5 at step 2 and 6e-4 at step 5 (the hinge's kinks, Adam's sign of
# tiny gradients), as grouping does. One step shows the group takes the run's own step.
CASES["hinge"] = ring8("hinge", steps=1)
CASES["loss-sensitive-fd"] = ring8("loss-sensitive", variant_options={"lipschitz": "finite-difference"})
CASES["r3gan-ema-bn"] = ring8("r3gan", ema_half_life=256.0, ema_ramp=2560.0, g_batch_norm=True)  # beta moves per step
CASES["vanilla-pack2"] = ring8("vanilla", pack=2, real_packs="fixed")
# PacGAN's code: simultaneous update, the generator (batch-normed) called once per pack slot, fixed packs
PACGAN = dict(pack=2, g_batch_norm=True, update="simultaneous", g_per_slot=True, real_packs="fixed")
CASES["pacgan-recipe"] = ring8("vanilla", **PACGAN)
CASES["r3gan-simultaneous-pack3"] = ring8("r3gan", **{**PACGAN, "pack": 3})  # a penalty and relativistic reals
CASES["simultaneous-fresh-batches"] = ring8("vanilla", update="simultaneous")  # real batch, then latents: one stream
CASES["wgan-gp-per-slot"] = ring8("wgan-gp", pack=2, g_batch_norm=True, g_per_slot=True)  # alternating, per slot
CASES["spectral-simultaneous"] = ring8("vanilla", d_norm="spectral", update="simultaneous")


@pytest.mark.parametrize("case", sorted(CASES))
def test_members_draw_the_single_runs_numbers_and_match_their_weights(case, tmp_path, monkeypatch):
    draws: dict = {}
    real_batch, sample_z = packs.real_batch, Run.sample_z

    def logged(kind, fn):
        def draw(run, *args):
            out = fn(run, *args)
            draws.setdefault((tmp_path.name, run.config.seed, kind), []).append(out.clone())
            return out
        return draw

    monkeypatch.setattr(packs, "real_batch", logged("real", real_batch))
    monkeypatch.setattr(Run, "sample_z", logged("z", sample_z))
    configs = seeds_of(CASES[case])
    grouped = train_seeds(configs, [tmp_path / f"group{s}" for s in SEEDS], group=True)
    logged_group = {k[1:]: v for k, v in draws.items()}
    draws.clear()
    alone = [train(cfg, tmp_path / f"alone{s}") for cfg, s in zip(configs, SEEDS)]
    logged_alone = {k[1:]: v for k, v in draws.items()}
    assert logged_group.keys() == logged_alone.keys() and len(logged_group) == 2 * len(SEEDS)
    for key in logged_alone:  # every real batch and every latent, drawn exactly as alone
        assert len(logged_group[key]) == len(logged_alone[key]) > CASES[case].budget.max_g_steps
        assert all(torch.equal(a, b) for a, b in zip(logged_group[key], logged_alone[key])), key
    for i, s in enumerate(SEEDS):
        assert grouped[i]["ensemble"] == {"size": 3, "index": i, "seeds": list(SEEDS)}
        assert grouped[i]["status"] == alone[i]["status"] == "finished"
        assert grouped[i]["spent"]["flops"] == alone[i]["spent"]["flops"]  # charged as one member
        assert grouped[i]["spent"]["images_seen"] == alone[i]["spent"]["images_seen"]
        seen, seen_alone = grouped[i]["health"]["observed"], alone[i]["health"]["observed"]
        assert grouped[i]["health"]["flags"] == alone[i]["health"]["flags"]
        assert {k: v for k, v in seen.items() if isinstance(v, int)} == {
            k: v for k, v in seen_alone.items() if isinstance(v, int)}  # e.g. zero-gradient step counts
        a, b = load(tmp_path / f"group{s}"), load(tmp_path / f"alone{s}")
        assert torch.equal(a["rng"]["cpu"], b["rng"]["cpu"])  # the same draws, penalty's included
        for key in ("generator", "critic", "generator_ema"):
            assert tensors(a, key).keys() == tensors(b, key).keys()
            for name, value in tensors(a, key).items():
                torch.testing.assert_close(value, tensors(b, key)[name], rtol=1e-3, atol=1e-4, msg=f"{key}.{name}")
        for opt in ("opt_g", "opt_d"):
            for index, state in b[opt]["state"].items():
                for name, value in state.items():
                    torch.testing.assert_close(a[opt]["state"][index][name], value, rtol=1e-2, atol=1e-6)


def test_a_group_rerun_is_bit_identical(tmp_path):
    configs = seeds_of(ring8("wgan-gp"))
    first = train_seeds(configs, [tmp_path / f"a{s}" for s in SEEDS], group=True)
    second = train_seeds(configs, [tmp_path / f"b{s}" for s in SEEDS], group=True)
    for s, x, y in zip(SEEDS, first, second):
        assert comparable(x) == comparable(y)
        a, b = load(tmp_path / f"a{s}"), load(tmp_path / f"b{s}")
        for key in ("generator", "critic"):
            assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])


@pytest.mark.parametrize("seeds", [(0, 1, 2), (0, 1)])
def test_a_nan_in_one_member_diverges_it_alone(seeds, tmp_path, monkeypatch):
    configs, k = [ring8("vanilla", s) for s in seeds], 4
    clean = train_seeds(configs, [tmp_path / f"clean{s}" for s in seeds], group=True)
    iteration, calls = group_module.SeedGroup.iteration, []

    def poisoned(self, n_critic):
        calls.append(len(self.runs))
        if len(calls) == k:  # before the k-th iteration: member 1's critic weights
            with torch.no_grad():
                next(iter(self.critic.parameters()))[1].fill_(float("nan"))
        return iteration(self, n_critic)

    monkeypatch.setattr(group_module.SeedGroup, "iteration", poisoned)
    hit = train_seeds(configs, [tmp_path / f"hit{s}" for s in seeds], group=True)
    assert hit[1]["status"] == "diverged" and hit[1]["diverged"]["g_step"] == k
    assert calls == [len(seeds)] * STEPS  # the group kept its size: its kernels, so its numbers
    for i in [i for i in range(len(seeds)) if i != 1]:
        assert hit[i]["status"] == "finished"
        assert comparable({**hit[i], "ensemble": None}) == comparable({**clean[i], "ensemble": None})
        a, b = load(tmp_path / f"hit{seeds[i]}"), load(tmp_path / f"clean{seeds[i]}")
        assert all(torch.equal(a["generator"][n], b["generator"][n]) for n in a["generator"])


@pytest.mark.parametrize("case", ["r3gan", "pacgan-recipe"])  # the latter: the fixed packs' position
def test_an_interrupted_group_resumes_bit_for_bit(case, tmp_path, monkeypatch):
    configs = seeds_of(CASES[case])
    reference = train_seeds(configs, [tmp_path / f"ref{s}" for s in SEEDS], group=True)
    interrupt = ctrl_c_at(8)  # between the checkpoints at 5 and 10

    dirs = [tmp_path / f"cut{s}" for s in SEEDS]
    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=True, callbacks=[None, interrupt, None])
    assert {read_record(d)["status"] for d in dirs} == {"interrupted"}
    resumed = train_seeds(configs, dirs, group=True)
    for s, x, y in zip(SEEDS, resumed, reference):
        assert any("resumed at generator step" in e for e in x["resume_events"])
        assert comparable({**x, "resume_events": []}) == comparable({**y, "resume_events": []})
        a, b = load(tmp_path / f"cut{s}"), load(tmp_path / f"ref{s}")
        assert all(torch.equal(a[key][n], b[key][n]) for key in ("generator", "critic") for n in a[key])


def test_a_member_checkpoint_resumes_alone(tmp_path):
    """Members write single-run checkpoints: one resumes under ``train`` as its own run."""
    configs = seeds_of(ring8("lsgan"))
    dirs = [tmp_path / f"m{s}" for s in SEEDS]
    interrupt = ctrl_c_at(6)

    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=True, callbacks=[interrupt, None, None])
    record = train(configs[2], dirs[2])
    assert record["status"] == "finished" and record["spent"]["g_steps"] == STEPS
    assert "resumed at generator step 6" in record["resume_events"]  # Ctrl-C checkpoints every member


def test_mixed_settings_and_unsupported_runs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="differ only by seed.*lr"):
        train_seeds([ring8("vanilla", 0), ring8("vanilla", 1, lr=1e-3)], [tmp_path / "a", tmp_path / "b"], group=True)
    with pytest.raises(ConfigError, match="spectral norm in a critic differentiated twice"):
        train_seeds(seeds_of(ring8("wgan-gp", d_norm="spectral")), [tmp_path / f"h{s}" for s in SEEDS], group=True)
    for change, reason in (({"budget": Budget.parse("5seconds")}, "seconds"), ({"autocast_bf16": True}, "autocast")):
        with pytest.raises(ConfigError, match=reason):
            train_seeds([replace(c, **change) for c in seeds_of(ring8("vanilla"))],
                        [tmp_path / f"r{s}" for s in SEEDS], group=True)


def test_streams_give_each_member_its_own_numbers():
    states = []
    for seed in (5, 6, 7):
        torch.manual_seed(seed)
        states.append({"cpu": torch.get_rng_state()})
    streams = MemberStreams(states, torch.device("cpu"))

    def draw(index):
        with streams.batched(index):
            return torch.rand(4) + torch.randn(2).sum()

    out = vmap(draw, randomness="same")(torch.arange(3))
    for i, seed in enumerate((5, 6, 7)):
        g = torch.Generator().manual_seed(seed)
        assert torch.equal(out[i], torch.rand(4, generator=g) + torch.randn(2, generator=g).sum())
    with streams.member(1):
        after = torch.randint(10, (3,))
    g = torch.Generator().manual_seed(6)
    torch.rand(4, generator=g), torch.randn(2, generator=g)
    assert torch.equal(after, torch.randint(10, (3,), generator=g))
    with pytest.raises(GanbenchError, match="bernoulli"), streams.member(0):
        torch.bernoulli(torch.full((2,), 0.5))
    with pytest.raises(GanbenchError, match="its own generator"), streams.member(0):
        torch.rand(2, generator=torch.Generator())


@pytest.mark.parametrize("variant", ["vanilla", "hinge"])  # hinge: a spectral-normed convolutional critic
def test_a_dcgan_group_with_batch_norm_matches_its_runs_alone(variant, tmp_path):
    """Batch norm's running statistics and spectral norm's vectors are stacked buffers,
    updated per member in place."""
    from tests.test_datasets import write_mnist_like

    data = write_mnist_like(tmp_path / "data", n_train=64)
    configs = [RunConfig(variant, "fashion-mnist", s, Budget.parse("1e12flops", max_g_steps=4), width=8,
                         batch_size=16, checkpoint_every=2, snapshot_fractions=(1.0,), data_dir=str(data))
               for s in (0, 1)]
    train_seeds(configs, [tmp_path / f"g{s}" for s in (0, 1)], group=True)
    for s, cfg in zip((0, 1), configs):
        train(cfg, tmp_path / f"a{s}")
        a, b = load(tmp_path / f"g{s}"), load(tmp_path / f"a{s}")
        assert any("running_mean" in name for name in b["generator"]) and "ensemble" not in read_record(
            tmp_path / f"a{s}")
        assert (variant == "hinge") == any(name.endswith("._u") for name in b["critic"])
        for key in ("generator", "critic"):
            for name, value in b[key].items():
                # A bias followed by batch norm has no true gradient, only rounding noise, which Adam
                # scales to a full step of lr either way: it (and the running mean it shifts) may
                # differ by up to 2 lr per step. Weights carry real gradients and match closely.
                tight = "weight" in name or name.endswith(("._u", "._v"))  # spectral norm's too
                atol = 1e-5 if tight else 2 * read_record(tmp_path / f"a{s}")["config"]["lr"] * 4
                torch.testing.assert_close(a[key][name].float(), value.float(), rtol=1e-3, atol=atol,
                                           msg=f"{key}.{name}")


def test_a_batch_normed_critic_with_a_penalty_is_refused(tmp_path):
    """torch.func.grad through batch norm's running statistics fails inside vmap."""
    from tests.test_datasets import write_mnist_like

    data = write_mnist_like(tmp_path / "data", n_train=64)
    configs = [RunConfig("wgan-gp", "fashion-mnist", s, Budget.parse("1e12flops", max_g_steps=2), width=8,
                         batch_size=16, d_norm="batch", data_dir=str(data)) for s in (0, 1)]
    with pytest.raises(ConfigError, match="batch norm in a critic differentiated twice"):
        train_seeds(configs, [tmp_path / f"g{s}" for s in (0, 1)], group=True)


def test_members_are_charged_their_share_of_the_groups_time(tmp_path, monkeypatch):
    from ganbench.training import trainer

    ticks = iter(range(10**6))
    monkeypatch.setattr(trainer, "clock", lambda: float(next(ticks)))  # every iteration takes 1 s
    records = train_seeds(seeds_of(ring8("lsgan")), [tmp_path / f"t{s}" for s in SEEDS], group=True)
    assert [r["spent"]["seconds"] for r in records] == pytest.approx([STEPS / len(SEEDS)] * len(SEEDS))


@pytest.mark.parametrize("group", [False, True])
def test_a_divergence_held_in_a_checkpoint_ends_the_run_on_resume(group, tmp_path, monkeypatch):
    """Stopped in the step it diverged, a run resumes as diverged at that step, and trains no further."""
    iteration, k = group_module.SeedGroup.iteration, 4
    from ganbench.training import trainer

    single = trainer.train_iteration

    def poison(run_or_group, member):  # the first critic weight of the run (of a group's member 0)
        with torch.no_grad():
            next(iter(run_or_group.critic.parameters()))[member].fill_(float("nan"))

    calls = {"n": 0}

    def step(run, n_critic=None):
        calls["n"] += 1
        if calls["n"] == k:
            poison(run, slice(None))
        return single(run, n_critic)

    def group_step(self, n_critic):
        calls["n"] += 1
        if calls["n"] == k:
            poison(self, 0)
        return iteration(self, n_critic)

    monkeypatch.setattr(trainer, "train_iteration", step)
    monkeypatch.setattr(group_module.SeedGroup, "iteration", group_step)
    stop = ctrl_c_at(k)
    configs = seeds_of(ring8("vanilla")) if group else [ring8("vanilla")]
    dirs = [tmp_path / f"d{i}" for i in range(len(configs))]
    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=group, callbacks=[stop] + [None] * (len(configs) - 1))
    assert read_record(dirs[0])["status"] == "interrupted" and read_record(dirs[0])["diverged"]["g_step"] == k
    record = train_seeds(configs, dirs, group=group)[0]
    assert record["status"] == "diverged" and record["diverged"]["g_step"] == k
    assert record["spent"]["g_steps"] == k


@pytest.mark.parametrize("cut", [10, 5])  # 5: the first checkpoint, so the common step is a fresh start
def test_a_kill_between_two_members_checkpoints_resumes_bit_for_bit(cut, tmp_path, monkeypatch):
    """Member 0 wrote its step-``cut`` checkpoint, members 1 and 2 did not: all resume together,
    at the step before (5, or a fresh start), as the group they were."""
    from ganbench.training import trainer

    configs = [replace(c, budget=Budget.parse("1e12flops", max_g_steps=14)) for c in seeds_of(ring8("vanilla"))]
    reference = train_seeds(configs, [tmp_path / f"ref{s}" for s in SEEDS], group=True)
    real = trainer.checkpoint

    def killed_midway(run, run_dir, state, *args, **kwargs):
        if state.spent.g_steps == cut and run_dir.name == "cut1":
            raise RuntimeError("killed")  # not KeyboardInterrupt: nothing else gets written
        return real(run, run_dir, state, *args, **kwargs)

    monkeypatch.setattr(trainer, "checkpoint", killed_midway)
    dirs = [tmp_path / f"cut{s}" for s in SEEDS]
    with pytest.raises(RuntimeError, match="killed"):
        train_seeds(configs, dirs, group=True)
    assert [load(d)["state"]["spent"]["g_steps"] for d in dirs[:1]] == [cut]
    assert all(not (d / "checkpoint.pt").exists() if cut == 5 else load(d)["state"]["spent"]["g_steps"] == 5
               for d in dirs[1:])
    monkeypatch.setattr(trainer, "checkpoint", real)
    resumed = train_seeds(configs, dirs, group=True)
    rejoined = ("resumed from checkpoint.prev.pt (to rejoin its seed group at step 5)" if cut == 10 else
                "restarted from scratch to rejoin its seed group (the newest step all members share is a fresh "
                "start)")
    assert rejoined in resumed[0]["resume_events"]
    for s, x, y in zip(SEEDS, resumed, reference):
        assert x["ensemble"] == y["ensemble"]
        assert comparable({**x, "resume_events": []}) == comparable({**y, "resume_events": []})
        a, b = load(tmp_path / f"cut{s}"), load(tmp_path / f"ref{s}")
        assert all(torch.equal(a["generator"][n], b["generator"][n]) for n in a["generator"])


def test_members_at_steps_with_no_checkpoint_in_common_train_apart(tmp_path):
    """Member 0 lost its checkpoints, members 1 and 2 hold steps 5 and 10: member 0 restarts
    alone, on its own random stream (as a run alone), and 1 and 2 resume together."""
    configs = [replace(c, budget=Budget.parse("1e12flops", max_g_steps=12)) for c in seeds_of(ring8("vanilla"))]
    dirs = [tmp_path / f"m{s}" for s in SEEDS]
    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=True, callbacks=[ctrl_c_at(10), None, None])
    for name in ("checkpoint.pt", "checkpoint.prev.pt", "record.json"):
        (dirs[0] / name).unlink()
    records = train_seeds(configs, dirs, group=True)
    alone = train(configs[0], tmp_path / "alone")
    assert "ensemble" not in records[0] and comparable(records[0]) == comparable(alone)
    assert [r["ensemble"] for r in records[1:]] == [{"size": 2, "index": i, "seeds": [1, 2]} for i in (0, 1)]
    assert all("resumed at generator step 10" in r["resume_events"] for r in records[1:])


def test_rejoining_a_group_drops_the_checkpoint_ahead_of_it(tmp_path):
    """A member that resumes at its previous checkpoint (or from scratch) to rejoin its group
    keeps no newer generation: a later kill or lost node could otherwise mix the two."""
    from ganbench.training.checkpoint import LATEST, PREVIOUS, load_checkpoint, save_checkpoint

    def payload(step):
        return {"state": {"spent": {"g_steps": step}}}

    save_checkpoint(tmp_path, payload(5))
    save_checkpoint(tmp_path, payload(10))
    events: list = []
    assert load_checkpoint(tmp_path, events, g_step=5)["state"]["spent"]["g_steps"] == 5
    assert not (tmp_path / PREVIOUS).exists()
    assert load_checkpoint(tmp_path, [])["state"]["spent"]["g_steps"] == 5  # the step-10 file is gone
    assert load_checkpoint(tmp_path, [], g_step=7) is None  # a step it does not hold: nothing deleted
    assert load_checkpoint(tmp_path, [])["state"]["spent"]["g_steps"] == 5
    assert load_checkpoint(tmp_path, events, g_step=0) is None
    assert not (tmp_path / LATEST).exists()
    assert events[-1].startswith("restarted from scratch to rejoin its seed group")


def test_unusable_checkpoints_are_left_in_place(tmp_path):
    """Only a group's rejoin changes files: a run alone falling back from a corrupt latest, or a
    group restarting while a member holds only corrupt files, leaves them for inspection."""
    from ganbench.training.checkpoint import LATEST, PREVIOUS, load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path, {"state": {"spent": {"g_steps": 5}}})
    save_checkpoint(tmp_path, {"state": {"spent": {"g_steps": 10}}})
    (tmp_path / LATEST).write_bytes(b"torn write")
    events: list = []
    assert load_checkpoint(tmp_path, events)["state"]["spent"]["g_steps"] == 5
    assert (tmp_path / LATEST).read_bytes() == b"torn write" and (tmp_path / PREVIOUS).exists()
    (tmp_path / PREVIOUS).write_bytes(b"also torn")
    events = []
    assert load_checkpoint(tmp_path, events, g_step=0) is None
    assert (tmp_path / LATEST).exists() and (tmp_path / PREVIOUS).exists()
    assert events[-1] == "no usable checkpoint: restarted from scratch"


@pytest.mark.parametrize("kind", ["adam", "rmsprop"])
def test_optimizer_state_stacks_per_member_and_slices_back(kind):
    """Moments are per member, a 0-dim parameter's too; the step count is shared."""
    def optimizer(seed):
        torch.manual_seed(seed)
        params = [nn.Parameter(torch.randn(())), nn.Parameter(torch.randn(3))]  # a scalar and a vector
        opt = (torch.optim.Adam if kind == "adam" else torch.optim.RMSprop)(params, lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            (params[0] * 2 + params[1].square().sum()).backward()
            opt.step()
        return opt

    members = [optimizer(seed) for seed in (0, 1)]
    stacked = group_module.stacked_optimizer_state(members)
    moment = "exp_avg_sq" if kind == "adam" else "square_avg"
    assert stacked["state"][0][moment].shape == (2,) and stacked["state"][1][moment].shape == (2, 3)
    assert torch.equal(stacked["state"][0]["step"], members[0].state_dict()["state"][0]["step"])
    params = [nn.Parameter(torch.zeros(2)), nn.Parameter(torch.zeros(2, 3))]  # the members' stacked
    holder = type(members[0])(params, lr=0.1)
    holder.load_state_dict(stacked)
    for i, member in enumerate(members):
        back = group_module.member_optimizer_state(holder, i)["state"]
        for key, entry in member.state_dict()["state"].items():
            assert back[key].keys() == entry.keys()
            assert all(torch.equal(back[key][name], value) for name, value in entry.items()), (key, i)
