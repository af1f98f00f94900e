"""The trainer's Adam runs as ``ADAM_IMPL`` says, and its record says which (it decides the low digits)."""

import pytest
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training import run_record as record
from ganbench.training import trainer
from ganbench.variants import base


def built(variant="loss-sensitive", **options):
    data = load_dataset("ring8", "train")
    return trainer.build_run(resolve(RunConfig(variant, "ring8", 0, Budget("flops", 1e9),
                                               variant_options=options), "points"), data)


@pytest.mark.parametrize("impl", [{}, {"fused": True}])
def test_both_optimisers_follow_adam_impl_and_the_record_says_so(monkeypatch, impl):
    monkeypatch.setattr(base, "ADAM_IMPL", impl)
    run = built(lipschitz="weight-decay", weight_decay=5e-5)
    fused = impl.get("fused", False)
    for opt in (run.opt_g, run.opt_d):
        assert isinstance(opt, torch.optim.Adam) and bool(opt.defaults["fused"]) is fused
    assert run.opt_d.defaults["weight_decay"] > 0  # loss-sensitive's decay goes through the same kernel
    new = record.new_record(run, {"d_step": 1, "g_step": 1}, [])
    assert new["optimizer"] == {"name": "Adam", "fused": fused}


def test_default_adam_is_the_fused_kernel_and_wgan_names_rmsprop():
    assert base.ADAM_IMPL == {"fused": True}  # the committed records and baseline were made with it
    assert record.new_record(built("wgan"), {"d_step": 1, "g_step": 1}, [])["optimizer"] == \
        {"name": "RMSprop", "fused": False}


def test_fused_adam_follows_the_same_rule_as_the_default_one():
    """Kingma & Ba's update either way: the two implementations agree to rounding."""
    torch.manual_seed(0)
    params = [torch.randn(37, 5, requires_grad=True) for _ in range(2)]
    twins = [p.detach().clone().requires_grad_(True) for p in params]
    fused = torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.9), weight_decay=1e-2, fused=True)
    plain = torch.optim.Adam(twins, lr=1e-3, betas=(0.5, 0.9), weight_decay=1e-2)
    for step in range(20):
        for group, opt in ((params, fused), (twins, plain)):
            opt.zero_grad()
            sum(((p - step) ** 2).sum() for p in group).backward()
            opt.step()
    for a, b in zip(params, twins):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert not torch.equal(a, params[0] * 0)  # the parameters moved
