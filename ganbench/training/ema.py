"""An exponential moving average (EMA) of the generator's weights, scored in its place.

Set by RunConfig ``ema_half_life`` (generated samples; 0: off, the default of
every variant but r3gan) and ``ema_ramp``. As StyleGAN2-ADA and R3GAN write it
(brownvc/R3GAN@19a7ddf ``training/training_loop.py`` l.349-355), after every
generator step the average moves towards the generator by

    beta = 0.5 ** (samples_per_step / half_life_now),   ema <- beta ema + (1 - beta) G

where samples_per_step is the generator's batch (``batch_size * pack``) and
half_life_now ramps from 0 to ``ema_half_life`` along R3GAN's cosine
(``cosine_decay_with_warmup``, l.29-38) over the first ``ema_ramp`` samples,
evaluated at the samples made before the step (l.310, l.358); ``ema_ramp = 0``
holds it constant. A per-step decay d converts as
half_life = samples_per_step * ln 2 / -ln d (d = 0.999 at batch 64: 44,340).
Buffers (batch-norm statistics) are copied, not averaged, as R3GAN copies them
(l.354-355). The average starts as a copy of the initial generator (l.179).

torch.optim.swa_utils.AveragedModel is not used: its decay is fixed when it is
built, and it either averages buffers or leaves them at their initial values.
"""

from __future__ import annotations

import copy
import math
from typing import Optional

import torch
from torch import nn


def half_life_at(samples: float, half_life: float, ramp: float) -> float:
    """The half-life in force after ``samples`` generated samples: R3GAN's cosine from
    0 to ``half_life`` over ``ramp`` samples (then constant); ``ramp`` 0: constant."""
    if ramp <= 0 or samples >= ramp:
        return half_life
    return half_life * (1 - math.cos(math.pi * samples / ramp)) / 2


def decay_at(samples: float, per_step: int, half_life: float, ramp: float) -> float:
    """beta of the step taken after ``samples`` samples: 0.5 ** (per_step / half-life)."""
    return 0.5 ** (per_step / max(half_life_at(samples, half_life, ramp), 1e-8))


class GeneratorEma:
    """The averaged copy of a generator (``module``) and the schedule that moves it."""

    def __init__(self, generator: nn.Module, half_life: float, ramp: float, per_step: int):
        self.module = copy.deepcopy(generator).requires_grad_(False)
        self.half_life, self.ramp, self.per_step = half_life, ramp, per_step

    @torch.no_grad()
    def update(self, generator: nn.Module, steps_before: int) -> None:
        """Move the average towards ``generator`` after its step ``steps_before`` (0-based)."""
        beta = decay_at(steps_before * self.per_step, self.per_step, self.half_life, self.ramp)
        ema = list(self.module.parameters())
        torch._foreach_lerp_(ema, [p.detach() for p in generator.parameters()], 1.0 - beta)
        for mine, theirs in zip(self.module.buffers(), generator.buffers()):
            mine.copy_(theirs)

    def record(self) -> dict:
        """What the run record says of it."""
        return {"half_life": self.half_life, "ramp": self.ramp, "samples_per_step": self.per_step, "scored": True}


def make_ema(config, generator: nn.Module) -> Optional[GeneratorEma]:
    """The run's EMA, or None when ``ema_half_life`` is 0 (off)."""
    if not config.ema_half_life:
        return None
    return GeneratorEma(generator, config.ema_half_life, config.ema_ramp or 0.0, config.batch_size * config.pack)


def scored_generator(run) -> nn.Module:
    """The generator snapshots and samples are taken from: the EMA when the run keeps one."""
    return run.g_ema.module if run.g_ema is not None else run.generator


def update(run, steps_before: int) -> None:
    """The trainer's hook after each generator step (nothing when EMA is off)."""
    if run.g_ema is not None:
        run.g_ema.update(run.generator, steps_before)


def state(run) -> dict:
    """The checkpoint's EMA entry (empty when off)."""
    return {} if run.g_ema is None else {"generator_ema": run.g_ema.module.state_dict()}


def load(run, payload: dict) -> None:
    """Restore the average from a checkpoint written with it on."""
    if run.g_ema is not None:
        run.g_ema.module.load_state_dict(payload["generator_ema"])
