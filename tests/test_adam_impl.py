"""The trainer's Adam runs fused, and its record says so (it decides the low digits)."""

import torch

from ganbench import trainer
from ganbench.config import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset


def test_both_optimisers_are_fused_adam_and_the_record_says_so(tmp_path):
    data = load_dataset("ring8", "train")
    run = trainer.build_run(resolve(RunConfig("loss-sensitive", "ring8", 0, Budget("flops", 1e9),
                                                  variant_options={"lipschitz": "weight-decay"}), "points"), data)
    for opt in (run.opt_g, run.opt_d):
        assert isinstance(opt, torch.optim.Adam) and opt.defaults["fused"] is True
    assert run.opt_d.defaults["weight_decay"] > 0  # loss-sensitive's critic decay goes through the fused kernel too
    record = trainer.new_record(run, {"d_step": 1, "g_step": 1}, [])
    assert record["optimizer"] == {"name": "Adam", "fused": True}


def test_fused_adam_follows_the_same_rule_as_the_default_one():
    """Kingma & Ba's update either way: the two implementations agree to rounding."""
    torch.manual_seed(0)
    params = [torch.randn(37, 5, requires_grad=True) for _ in range(2)]
    twins = [p.detach().clone().requires_grad_(True) for p in params]
    fused = torch.optim.Adam(params, lr=1e-3, betas=(0.5, 0.9), weight_decay=1e-2, **trainer.ADAM_IMPL)
    plain = torch.optim.Adam(twins, lr=1e-3, betas=(0.5, 0.9), weight_decay=1e-2)
    for step in range(20):
        for group, opt in ((params, fused), (twins, plain)):
            opt.zero_grad()
            sum(((p - step) ** 2).sum() for p in group).backward()
            opt.step()
    for a, b in zip(params, twins):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert not torch.equal(a, params[0] * 0)  # the parameters moved
