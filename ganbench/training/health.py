"""Training health: does a run actually train? Three checks, watched on every run.

A run can finish its budget, be scored and land in a table without ever having
trained (the committed ring8 loss-sensitive seed 2: its critic's ReLU output was
0 on every fake, so the generator loss was exactly 0 with no gradient, the critic
loss sat at 10.0177 for 5,243 steps and the final samples were the initial
generator's). The trainer feeds a :class:`HealthMonitor` every iteration; the
record gets a ``health`` block::

    {"ok": false,
     "flags": [{"check": "zero_generator_gradient", "from_g_step": 1, "share": 1.0, ...}],
     "thresholds": {...}, "observed": {...}}

``ok`` is true when no check fired (``flags`` empty). ``observed`` holds the
running counts the verdict is computed from (also the resume state: the block
lives in the checkpointed :class:`~ganbench.training.trainer.TrainState`, so a
resumed run ends with the same block). Reports count a flagged run apart, like
a diverged run (:mod:`ganbench.report.load`); records without the block (written
before it existed) are read as healthy.

The checks and their thresholds:

``zero_generator_gradient``
    The squared L2 norm of the generator's gradient after ``g_loss.backward()``
    is exactly 0 or non-finite on at least ``ZERO_GRADIENT_SHARE`` = 0.5 of the
    generator steps. Exactly zero, not "small": Adam and RMSProp divide by the
    gradient's running scale, so any non-zero gradient still moves the weights
    by about the learning rate; only an exact zero (every sample in a flat
    region: a dead ReLU, a saturated clip) leaves them where they are. Half the
    steps: an isolated zero batch happens in runs that train (a hinge whose
    every fake clears the margin); a generator without a gradient more often
    than not is stalled for most of its budget. ``from_g_step`` is where the
    last unbroken stretch of zero gradients began (the first zero if the run
    ended with a gradient).
``flat_critic_loss``
    Over the whole run (at least ``FLAT_MIN_D_STEPS`` = 10 critic steps, every
    step, not only the logged ones) the critic loss's range max - min is at
    most ``FLAT_RELATIVE_RANGE`` = 1e-3 of its mean's magnitude. Batch noise
    alone moves a training critic's loss by far more: over the committed ring8,
    grid25, PacGAN and Fashion-MNIST runs the smallest relative range was
    3.7e-2 (PacGAN3, 80 logged losses); the dead loss-sensitive run's was
    3.3e-5. 1e-3 sits a factor ~30 from both.
``generator_never_moved``
    At the end of training, the generator's eval-mode output on ``PROBE_SAMPLES``
    fixed probe latents differs from the initial generator's output on the same
    latents by an RMS of at most ``STILL_RELATIVE_SHIFT`` = 1e-6 of the data's
    standard deviation (model space, first ``SCALE_SAMPLES`` training samples).
    Adam's first step alone moves every weight by the learning rate (1e-4 and
    up): one step moved the ring8 MLP's probe output by 0.009-0.021 of the
    data's spread (vanilla, wgan-gp, lsgan, seeds 0-2); a run with lr_g = 1e-12
    moved it by 3e-10. 1e-6 is well above float32 rounding of an identical
    network (exactly 0 on one machine) and four decades below one real update. The probe latents come from
    their own ``torch.Generator`` (seed + ``PROBE_SEED_OFFSET``), so the
    training random stream is untouched, and the initial output is recomputed
    from the freshly built generator on every (re)start: the build is seeded,
    so it is the same initial generator.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganbench.datasets import to_model_space
from ganbench.training.samples import generate

ZERO_GRADIENT_SHARE = 0.5
FLAT_RELATIVE_RANGE = 1e-3
FLAT_MIN_D_STEPS = 10
STILL_RELATIVE_SHIFT = 1e-6
PROBE_SAMPLES = 256
PROBE_SEED_OFFSET = 20_000  # samples.py uses +10,000: a stream of its own again
SCALE_SAMPLES = 2048
THRESHOLDS = {"zero_gradient_share": ZERO_GRADIENT_SHARE, "flat_relative_range": FLAT_RELATIVE_RANGE,
              "flat_min_d_steps": FLAT_MIN_D_STEPS, "still_relative_shift": STILL_RELATIVE_SHIFT}


def new_block() -> dict:
    """The health block of a run that has not taken a step."""
    return {"ok": True, "flags": [], "thresholds": dict(THRESHOLDS), "observed": {
        "g_steps": 0, "zero_gradient_steps": 0, "first_zero_gradient": None, "zero_gradient_since": None,
        "d_steps": 0, "d_loss_min": None, "d_loss_max": None, "d_loss_sum": 0.0, "generator_shift": None}}


def grad_square_norm(module: nn.Module) -> torch.Tensor:
    """Sum of squared gradients of ``module``'s parameters, on the device (no sync);
    0 when no parameter received a gradient."""
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    if not grads:
        return torch.zeros((), device=next(module.parameters()).device)
    return torch.stack(torch._foreach_norm(grads)).float().square().sum()


class HealthMonitor:
    """Watches one run; its state is ``block["observed"]`` (plain data)."""

    def __init__(self, generator: nn.Module, data, config):
        """``generator`` must be the freshly built (initial) one: its probe output is the reference."""
        self.generator, self.config = generator, config
        self.seed = config.seed + PROBE_SEED_OFFSET
        self.initial = generate(generator, PROBE_SAMPLES, config.z_dim, self.seed, config.device)
        sample = data.data[:SCALE_SAMPLES]
        sample = to_model_space(sample) if sample.dtype == torch.uint8 else sample.float()
        std = float(sample.std())
        self.scale = std if math.isfinite(std) and std > 0 else 1.0

    @staticmethod
    def block_of(state) -> dict:
        """The health block of ``state`` (a ``TrainState``), started on first use."""
        if not state.health:
            state.health.update(new_block())
        return state.health

    def observe(self, state, d_losses: list[float], g_grad_square: float) -> None:
        """One iteration (already counted in ``state.spent``): its critic losses and
        the generator's squared gradient norm."""
        block = self.block_of(state)
        seen, g_step = block["observed"], state.spent.g_steps
        seen["g_steps"] += 1
        if g_grad_square == 0.0 or not math.isfinite(g_grad_square):
            seen["zero_gradient_steps"] += 1
            seen["first_zero_gradient"] = seen["first_zero_gradient"] or g_step
            seen["zero_gradient_since"] = seen["zero_gradient_since"] or g_step
        else:
            seen["zero_gradient_since"] = None
        for v in d_losses:
            if math.isfinite(v):
                seen["d_steps"] += 1
                seen["d_loss_sum"] += v
                seen["d_loss_min"] = v if seen["d_loss_min"] is None else min(seen["d_loss_min"], v)
                seen["d_loss_max"] = v if seen["d_loss_max"] is None else max(seen["d_loss_max"], v)
        block["flags"] = assess(seen)
        block["ok"] = not block["flags"]

    def finish(self, state) -> None:
        """The end of training: compare the generator's probe output with its initial one."""
        block = self.block_of(state)
        final = generate(self.generator, PROBE_SAMPLES, self.config.z_dim, self.seed, self.config.device)
        shift = float((final - self.initial).double().square().mean().sqrt()) / self.scale
        block["observed"]["generator_shift"] = shift if math.isfinite(shift) else str(shift)
        block["flags"] = assess(block["observed"])
        block["ok"] = not block["flags"]


def relative_range(low: float, high: float, mean: float) -> float:
    """(high - low) / |mean|: 0 for a constant (even a constant 0), inf for a range
    around a zero mean (a loss that moves about 0 is not flat)."""
    spread = high - low
    return 0.0 if spread == 0 else (spread / abs(mean) if mean else math.inf)


def assess(seen: dict) -> list[dict]:
    """The flags the observed counts raise (see the module docstring for each threshold)."""
    flags = []
    g_steps = seen["g_steps"]
    if g_steps and seen["zero_gradient_steps"] / g_steps >= ZERO_GRADIENT_SHARE:
        flags.append({"check": "zero_generator_gradient",
                      "from_g_step": seen["zero_gradient_since"] or seen["first_zero_gradient"],
                      "share": seen["zero_gradient_steps"] / g_steps, "steps": seen["zero_gradient_steps"]})
    n = seen["d_steps"]
    if n >= FLAT_MIN_D_STEPS:
        mean = seen["d_loss_sum"] / n
        relative = relative_range(seen["d_loss_min"], seen["d_loss_max"], mean)
        if relative <= FLAT_RELATIVE_RANGE:
            flags.append({"check": "flat_critic_loss", "from_g_step": 1, "d_loss_mean": mean,
                          "relative_range": relative, "d_steps": n})
    shift = seen["generator_shift"]
    if g_steps and isinstance(shift, float) and shift <= STILL_RELATIVE_SHIFT:
        flags.append({"check": "generator_never_moved", "from_g_step": 1, "relative_shift": shift})
    return flags


def flat_trace(losses: list) -> bool:
    """Whether a record's logged critic-loss trace is flat by the same rule (for
    records written before the health block; finite logged values only)."""
    values = [v for v in losses if isinstance(v, float) and math.isfinite(v)]
    return len(values) >= FLAT_MIN_D_STEPS and \
        relative_range(min(values), max(values), sum(values) / len(values)) <= FLAT_RELATIVE_RANGE
