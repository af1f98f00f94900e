"""Packing (PacGAN's m): the critic scores m samples concatenated, real with
real and fake with fake; pack = 1 is the trainer as it was."""

import pytest
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.core.errors import ConfigError
from ganbench.datasets import load_dataset
from ganbench.models import pack_samples
from ganbench.training.budget import measure_step_flops
from ganbench.training.trainer import build_run, train, train_iteration
from ganbench.variants import VARIANTS


def cfg(**kw):
    kw.setdefault("budget", Budget.parse("4steps"))
    return RunConfig(variant=kw.pop("variant", "vanilla"), dataset="ring8", seed=0, batch_size=4, width=8, **kw)


def test_points_pack_along_features_in_order():
    x = torch.arange(12.0).view(6, 2)  # samples (0,1), (2,3), ... (10,11)
    assert torch.equal(pack_samples(x, 3), torch.tensor([[0., 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]))


def test_images_pack_along_channels():
    x = torch.stack([torch.full((1, 2, 2), float(i)) for i in range(4)])  # 4 one-channel images, values 0..3
    packed = pack_samples(x, 2)
    assert packed.shape == (2, 2, 2, 2)
    assert [packed[b, c, 0, 0].item() for b in range(2) for c in range(2)] == [0., 1., 2., 3.]


def test_pack_one_is_the_tensor_itself_and_indivisible_batches_fail():
    x = torch.randn(5, 2)
    assert pack_samples(x, 1) is x
    with pytest.raises(ConfigError, match="divisible by 2"):
        pack_samples(x, 2)


def test_real_and_fake_batches_are_packs_of_m_samples():
    data = load_dataset("ring8")
    run = build_run(resolve(cfg(pack=3), "points"), data)
    assert run.real_batch().shape == (4, 6) and run.fake_batch().shape == (4, 6)
    first = [m for m in run.critic.modules() if isinstance(m, torch.nn.Linear)][0]
    assert first.in_features == 6


def test_packed_real_pack_is_m_training_points():
    data = load_dataset("ring8")
    run = build_run(resolve(cfg(pack=2), "points"), data)
    torch.manual_seed(5)
    packed = run.real_batch()
    torch.manual_seed(5)
    idx = torch.randint(len(data), (8,))
    assert torch.equal(packed, data.data[idx].reshape(4, 4))


def test_packing_costs_are_counted():
    data = load_dataset("ring8")
    flops = {}
    for m in (1, 2):
        run = build_run(resolve(cfg(pack=m), "points"), data)
        flops[m] = measure_step_flops(run.generator, run.critic, run.variant, run.real_batch, run.sample_z, m)
    # G: 2 -> 8 -> 8 -> 8 -> 2 on 4m points, forward only in the critic step: 2 * 4m * (16+64+64+16) MACs
    g_forward = {m: 2 * 4 * m * (2 * 8 + 8 * 8 + 8 * 8 + 8 * 2) for m in (1, 2)}
    # D's first layer widens from 2 to 2m inputs: forward on 2 x 4 packs and the weight gradient
    d_extra = 2 * (2 * 8 * 4 * 2) * 2
    assert flops[2]["d_step"] - flops[1]["d_step"] == g_forward[2] - g_forward[1] + d_extra


def test_pack_one_matches_an_unpacked_hand_loop():
    """pack = 1 draws, trains and losses exactly as the unpacked step (the trainer before packing)."""
    data = load_dataset("ring8")
    config = resolve(cfg(pack=1), "points")
    run, ref = build_run(config, data), build_run(config, data)
    torch.manual_seed(11)
    ours = [train_iteration(run) for _ in range(3)]
    torch.manual_seed(11)
    theirs = []
    for _ in range(3):
        real = data.data[torch.randint(len(data), (4,))]
        with torch.no_grad():
            fake = ref.generator(torch.randn(4, 2))
        ref.opt_d.zero_grad(set_to_none=True)
        d_loss = ref.variant.d_loss(ref.critic, real, fake)
        d_loss.backward()
        ref.opt_d.step()
        ref.critic.requires_grad_(False)
        ref.opt_g.zero_grad(set_to_none=True)
        g_loss = ref.variant.g_loss(ref.critic, ref.generator(torch.randn(4, 2)))
        g_loss.backward()
        ref.opt_g.step()
        ref.critic.requires_grad_(True)
        theirs.append(([d_loss.item()], g_loss.item()))
    assert ours == theirs


@pytest.mark.parametrize("variant", VARIANTS.names())
def test_every_variant_trains_packed(tmp_path, variant):
    # 4 G steps x 4 packs x 2 samples, real + fake per critic step and fake (r3gan: and real) per G step
    record = train(cfg(variant=variant, pack=2), tmp_path / variant)
    assert record["status"] == "finished" and record["spent"]["g_steps"] == 4
    spent = record["spent"]  # wgan's schedule runs more critic steps than n_critic early on
    per_g_step = 1 + VARIANTS.get(variant).g_uses_real
    assert spent["images_seen"] == 4 * 2 * (2 * spent["d_steps"] + per_g_step * spent["g_steps"])
