"""Seeds trained together (training/group.py, training/streams.py) against the same
seeds trained alone: same random numbers, same weights to rounding, bit-identical
reruns, a diverging member isolated, mixed settings refused."""

from dataclasses import replace
from pathlib import Path

import pytest
import torch
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


def ring8(variant: str, seed: int = 0, **changes) -> RunConfig:
    return RunConfig(variant, "ring8", seed, Budget.parse("1e12flops", max_g_steps=STEPS), width=32, batch_size=64,
                     checkpoint_every=5, snapshot_fractions=(0.5, 1.0), **changes)


def seeds_of(config: RunConfig) -> list[RunConfig]:
    return [replace(config, seed=s) for s in SEEDS]


def load(run_dir: Path) -> dict:
    return safe_torch_load(Path(run_dir) / "checkpoint.pt")


def tensors(payload: dict, key: str) -> dict:
    return payload.get(key, {})


# Every variant grouped training supports on ring8 (hinge's spectral norm is refused, below),
# and the cases that draw inside a penalty or keep a moving EMA over batch-norm buffers.
CASES = {name: ring8(name) for name in VARIANTS.names() if name != "hinge"}
CASES["loss-sensitive-fd"] = ring8("loss-sensitive", variant_options={"lipschitz": "finite-difference"})
CASES["r3gan-ema-bn"] = ring8("r3gan", ema_half_life=256.0, ema_ramp=0.0, g_batch_norm=True)
CASES["vanilla-pack2"] = ring8("vanilla", pack=2, real_packs="fixed")


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
        assert len(logged_group[key]) == len(logged_alone[key]) > STEPS
        assert all(torch.equal(a, b) for a, b in zip(logged_group[key], logged_alone[key])), key
    for i, s in enumerate(SEEDS):
        assert grouped[i]["ensemble"] == {"size": 3, "index": i, "seeds": list(SEEDS)}
        assert grouped[i]["status"] == alone[i]["status"] == "finished"
        assert grouped[i]["spent"]["flops"] == alone[i]["spent"]["flops"]  # charged as one member
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


def test_a_nan_in_one_member_diverges_it_alone(tmp_path, monkeypatch):
    configs, k = seeds_of(ring8("vanilla")), 4
    clean = train_seeds(configs, [tmp_path / f"clean{s}" for s in SEEDS], group=True)
    iteration, calls = group_module.SeedGroup.iteration, []

    def poisoned(self, n_critic):
        calls.append(len(self.runs))
        if len(calls) == k:  # before the k-th iteration: member 1's critic weights
            with torch.no_grad():
                next(iter(self.critic.parameters()))[1].fill_(float("nan"))
        return iteration(self, n_critic)

    monkeypatch.setattr(group_module.SeedGroup, "iteration", poisoned)
    hit = train_seeds(configs, [tmp_path / f"hit{s}" for s in SEEDS], group=True)
    assert hit[1]["status"] == "diverged" and hit[1]["diverged"]["g_step"] == k
    assert calls == [3] * k + [2] * (STEPS - k)  # the others went on as a group of two
    for i in (0, 2):
        assert hit[i]["status"] == "finished"
        assert comparable({**hit[i], "ensemble": None}) == comparable({**clean[i], "ensemble": None})
        a, b = load(tmp_path / f"hit{SEEDS[i]}"), load(tmp_path / f"clean{SEEDS[i]}")
        assert all(torch.equal(a["generator"][n], b["generator"][n]) for n in a["generator"])


def test_an_interrupted_group_resumes_bit_for_bit(tmp_path, monkeypatch):
    configs = seeds_of(ring8("r3gan"))
    reference = train_seeds(configs, [tmp_path / f"ref{s}" for s in SEEDS], group=True)

    def interrupt(info):
        if info["g_step"] == 8:  # between the checkpoints at 5 and 10
            raise KeyboardInterrupt

    dirs = [tmp_path / f"cut{s}" for s in SEEDS]
    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=True, callbacks=[None, interrupt, None])
    assert {read_record(d)["status"] for d in dirs} == {"interrupted"}
    resumed = train_seeds(configs, dirs, group=True)
    for s, x, y in zip(SEEDS, resumed, reference):
        assert any("resumed at generator step" in e for e in x["resume_events"])
        assert comparable({**x, "resume_events": []}) == comparable({**y, "resume_events": []})
        a, b = load(tmp_path / f"cut{s}"), load(tmp_path / f"ref{s}")
        assert all(torch.equal(a["generator"][n], b["generator"][n]) for n in a["generator"])


def test_a_member_checkpoint_resumes_alone(tmp_path):
    """Members write single-run checkpoints: one resumes under ``train`` as its own run."""
    configs = seeds_of(ring8("lsgan"))
    dirs = [tmp_path / f"m{s}" for s in SEEDS]

    def interrupt(info):
        if info["g_step"] == 6:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_seeds(configs, dirs, group=True, callbacks=[interrupt, None, None])
    record = train(configs[2], dirs[2])
    assert record["status"] == "finished" and record["spent"]["g_steps"] == STEPS


def test_mixed_settings_and_unsupported_runs_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="differ only by seed.*lr"):
        train_seeds([ring8("vanilla", 0), ring8("vanilla", 1, lr=1e-3)], [tmp_path / "a", tmp_path / "b"], group=True)
    with pytest.raises(ConfigError, match="spectral norm"):
        train_seeds(seeds_of(ring8("hinge")), [tmp_path / f"h{s}" for s in SEEDS], group=True)
    with pytest.raises(ConfigError, match="update"):
        train_seeds(seeds_of(ring8("vanilla", update="simultaneous")), [tmp_path / f"u{s}" for s in SEEDS],
                    group=True)


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
