"""The simultaneous update: how PacGAN's code steps both networks.

PacGAN trains with ALI's ``ali_algorithm`` (IshmaelBelghazi/ALI ``ali/algorithms.py``):
one compiled function takes the critic's gradient of its loss and the
generator's gradient of its loss from the same real batch, the same z and the
same fakes, and applies both updates from the old weights. Neither network
moves before the other's gradient is taken; there is no n_critic. Here that is
RunConfig ``update = "simultaneous"``, one mode of the trainer's loop
(:func:`ganbench.training.trainer.train_iteration`); ``"alternating"`` (critic
steps, then a generator step against the updated critic) is the default.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganbench.core.errors import ConfigError
from ganbench.training.budget import measure_step_flops
from ganbench.training.health import grad_square_norm


def backward_into(loss: torch.Tensor, params) -> None:
    """``loss``'s gradient into ``params``' ``.grad`` (set, not added to), and into no other tensor.

    ``backward(inputs=...)``, not ``torch.autograd.grad``: the gradient lands in its
    parameter's layout (torch's fused CPU Adam reads a gradient as if it had its
    parameter's strides, and ``autograd.grad`` gives a seed group's stacked weights
    transposed ones), and torch's FLOP counter can count it through a spectral norm's
    parametrization (its module hooks refuse ``autograd.grad`` there). An unused
    parameter's ``.grad`` stays None.
    """
    params = list(params)
    for p in params:
        p.grad = None
    torch.autograd.backward(loss, inputs=params)


def simultaneous_backward(generator, critic, variant, real, z_fakes: Callable[[], torch.Tensor], counters=None):
    """Both losses from one batch, and each network's gradient of its own loss in its ``.grad``,
    before any weight moves; returns (d_loss, g_loss).

    The fakes are made once; the critic's loss sees them detached, the
    generator's loss through the generator (the critic's weights get no
    gradient from it). ``counters``: three FLOP counters for the fake forward,
    the critic part and the generator part (see :func:`measure_simultaneous_flops`).
    """
    parts = counters or [nullcontext()] * 3
    critic.requires_grad_(True)
    with parts[0]:
        fake = z_fakes()
    with parts[1]:
        d_loss = variant.d_loss(critic, real, fake.detach())
        backward_into(d_loss, critic.parameters())
    with parts[2]:
        g_loss = variant.g_step_loss(critic, fake, lambda: real)  # a relativistic loss pairs the same reals
        backward_into(g_loss, generator.parameters())
    return d_loss, g_loss


def simultaneous_iteration(run, autocast) -> tuple[list[float], float]:
    """One simultaneous update of ``run`` (a trainer ``Run``); returns ([d_loss], g_loss)."""
    real = run.real_batch()
    run.variant.before_d_step(run.critic)
    with autocast:
        d_loss, g_loss = simultaneous_backward(run.generator, run.critic, run.variant, real, run.fake_batch)
    g_grad = grad_square_norm(run.generator)  # for the health check, queued before the step
    run.opt_d.step()
    run.variant.after_d_step(run.critic)
    run.opt_g.step()
    d_value, g_value, run.g_grad_square = torch.stack([v.float() for v in (d_loss.detach(), g_loss.detach(),
                                                                           g_grad)]).tolist()
    return [d_value], g_value


def measure_simultaneous_flops(run) -> dict[str, int]:
    """FLOPs of one simultaneous update, on copies, without drawing from the training stream.

    The real cost is split as "d_step": the critic's losses and gradient, and
    "g_step": the one fake forward (shared by both losses, charged once) plus
    the generator's loss and gradient; an iteration is their sum.
    """
    g, d = copy.deepcopy(run.generator), copy.deepcopy(run.critic)
    shadow = copy.copy(run)
    shadow.generator = g
    counters = [FlopCounterMode(display=False) for _ in range(3)]
    devices = [torch.cuda.current_device()] if run.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        simultaneous_backward(g, d, run.variant, run.real_batch(), shadow.fake_batch, counters)
    fake, d_part, g_part = (int(c.get_total_flops()) for c in counters)
    return {"d_step": d_part, "g_step": fake + g_part}


def measure_flops(run) -> dict[str, int]:
    """Step FLOPs as ``run``'s update mode runs them; the real batch drawn for it is not counted as drawn.

    A generator run per pack slot does the same matmuls as one call on all slots,
    so the alternating count holds for it too.
    """
    drawn = run.fixed_packs.drawn if run.fixed_packs is not None else None
    if run.config.update == "simultaneous":
        flops = measure_simultaneous_flops(run)
    else:
        flops = measure_step_flops(run.generator, run.critic, run.variant, run.real_batch, run.sample_z,
                                   run.config.pack)
    if drawn is not None:
        run.fixed_packs.drawn = drawn
    return flops


def critic_schedule(run) -> Callable[[int], int]:
    """Critic steps per iteration: the variant's schedule, or 1 for a simultaneous update."""
    cfg, variant = run.config, run.variant
    if cfg.update != "simultaneous":
        return lambda g_step: variant.critic_steps(g_step, cfg.n_critic)
    if variant.critic_steps(0, 1) != 1:
        raise ConfigError(f"update = 'simultaneous' takes one critic step per generator step, but {cfg.variant} "
                          f"schedules {variant.critic_steps(0, 1)} at step 0; turn its schedule off or use "
                          f"update = 'alternating'")
    return lambda g_step: 1
