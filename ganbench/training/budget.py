"""Budget accounting: what one training iteration costs and whether the next fits.

FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode`` once per
step kind (critic step, generator step) for the run's fixed batch shape, on
throw-away copies of the models, so counting costs nothing per step and never
touches the training state or its random stream.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch.utils.flop_counter import FlopCounterMode

from ganbench.config.run import STEP_UNITS, Budget
from ganbench.core.errors import ConfigError, GanbenchWarning


def count_flops(step: Callable[[], None]) -> int:
    """FLOPs of the matmuls/convolutions that ``step`` runs (forward + backward)."""
    with FlopCounterMode(display=False) as counter:
        step()
    return int(counter.get_total_flops())


def measure_step_flops(generator, critic, variant, real_batch, sample_z, pack: int = 1) -> dict[str, int]:
    """FLOPs of one critic step and one generator step, on deep copies.

    ``real_batch`` and ``sample_z`` are callables; the RNG is forked so the dry
    run draws nothing from the training stream. Fakes are packed by ``pack``
    as in training (real_batch packs its own), so packing's cost is counted.
    """
    from ganbench.models.packing import pack_samples

    g, d = copy.deepcopy(generator), copy.deepcopy(critic)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() and next(g.parameters()).is_cuda else []
    with torch.random.fork_rng(devices=devices):
        real = real_batch()

        def critic_step():
            with torch.no_grad():
                fake = pack_samples(g(sample_z()), pack)
            variant.d_loss(d, real, fake).backward()

        def generator_step():
            d.requires_grad_(False)
            variant.g_step_loss(d, pack_samples(g(sample_z()), pack), real_batch).backward()

        return {"d_step": count_flops(critic_step), "g_step": count_flops(generator_step)}


@dataclass
class Spent:
    """What a run has used so far; serialised into checkpoints and the record."""

    flops: int = 0
    seconds: float = 0.0
    d_steps: int = 0
    g_steps: int = 0
    images_seen: int = 0

    def to_dict(self) -> dict:
        return dict(vars(self))


@dataclass
class BudgetMeter:
    """Decides whether the next iteration (its critic steps + one generator
    step) fits, and how far through the budget a run is.

    ``critic_steps(g_step)`` says how many critic steps the iteration ending in
    0-based generator step ``g_step`` runs (a variant may vary it, e.g. WGAN's
    warm-up), so each iteration is charged, and predicted, at its real cost.

    Budgets in epochs or generator steps are counted in generator steps: an
    epoch is ``steps_per_epoch`` = len(train split) / batch_size of them (PacGAN:
    100,000 points / 100 per batch = 1000), rounded down to whole steps.
    """

    budget: Budget
    step_flops: dict[str, int]  # {"d_step": ..., "g_step": ...} from measure_step_flops
    critic_steps: Callable[[int], int]
    seconds_per_iteration: list[float] = field(default_factory=list)
    flops_per_iteration: list[int] = field(default_factory=list)
    steps_per_epoch: float = 1.0

    def step_limit(self) -> int:
        """The generator steps a step-counted budget allows (g_steps = epochs x N / batch)."""
        per_unit = self.steps_per_epoch if self.budget.unit == "epochs" else 1.0
        return math.floor(self.budget.limit * per_unit + 1e-9)  # 1e-9: 0.1 epochs x 1000 is 100, not 99

    def used(self, spent: Spent) -> float:
        """What the run has used, in the budget's unit (generator steps for step units)."""
        if self.budget.unit in STEP_UNITS:
            return float(spent.g_steps)
        return float(spent.flops if self.budget.unit == "flops" else spent.seconds)

    def limit(self) -> float:
        return float(self.step_limit()) if self.budget.unit in STEP_UNITS else self.budget.limit

    def iteration_flops(self, n_critic: int) -> int:
        """FLOPs of one iteration with ``n_critic`` critic steps."""
        return n_critic * self.step_flops["d_step"] + self.step_flops["g_step"]

    def record_iteration(self, seconds: float, n_critic: int) -> None:
        """Remember what an iteration took, for predicting time budgets."""
        self.seconds_per_iteration.append(seconds)
        self.flops_per_iteration.append(self.iteration_flops(n_critic))

    def next_cost(self, spent: Spent) -> float:
        """Predicted cost of the next iteration in the budget's unit."""
        flops = self.iteration_flops(self.critic_steps(spent.g_steps))
        if self.budget.unit == "flops":
            return float(flops)
        if self.budget.unit in STEP_UNITS:
            return 1.0
        recent, recent_flops = self.seconds_per_iteration[-20:], self.flops_per_iteration[-20:]  # robust to warm-up
        if not recent:
            return 0.0
        if len(set(recent_flops)) == 1 and recent_flops[0] == flops:
            return sum(recent) / len(recent)  # the common case: every iteration alike
        return sum(recent) / sum(recent_flops) * flops  # seconds per FLOP, scaled to this iteration

    def next_fits(self, spent: Spent) -> bool:
        """True when one more iteration stays within the budget and the step cap."""
        if self.budget.max_g_steps is not None and spent.g_steps >= self.budget.max_g_steps:
            return False
        return self.used(spent) + self.next_cost(spent) <= self.limit()

    def progress(self, spent: Spent) -> float:
        """Fraction of the budget spent (the larger of the unit and the step cap)."""
        limit = self.limit()
        fraction = self.used(spent) / limit if limit else 1.0
        if self.budget.max_g_steps:
            fraction = max(fraction, spent.g_steps / self.budget.max_g_steps)
        return min(fraction, 1.0)


def smallest_budget_text(unit: str, cost: float) -> str:
    """``cost`` rounded *up* to three significant digits, written as a budget string
    that ``Budget.parse`` reads (rounding down would name a budget that still fails)."""
    exponent = math.floor(math.log10(cost)) - 2
    value = math.ceil(cost / 10.0 ** exponent) * 10.0 ** exponent
    value = value if value >= cost else math.nextafter(value, math.inf)
    mantissa, _, power = f"{value:.3g}".partition("e")
    number = f"{mantissa}e{int(power)}" if power else mantissa  # '5.09e7', as users write it
    return f"{number}flops" if unit == "flops" else f"{number} {unit}"


def check_budget(meter: BudgetMeter, fractions: tuple[float, ...], what: str) -> bool:
    """Refuse a budget that cannot pay for one iteration; warn when snapshots will repeat.

    The cost is the meter's own prediction for the first iteration, so the
    check follows whatever the meter charges; later iterations are assumed to
    cost the same. A unit whose cost is only known once training runs
    (seconds: the meter predicts 0 before the first iteration, which therefore
    always runs) cannot be checked here: returns False, and the trainer warns
    afterwards if snapshots repeated (:func:`warn_repeated_snapshots`).
    ``what`` names the run in the messages.
    """
    budget, limit = meter.budget, meter.limit()
    cost = meter.next_cost(Spent())
    if cost <= 0:
        return False
    if cost > limit:
        smallest = smallest_budget_text(budget.unit, cost)
        raise ConfigError(
            f"{what}: the budget {budget} cannot pay for one iteration (the first costs {cost:.4g} {budget.unit}); "
            f"the smallest budget that trains is {smallest}: use --budget {smallest} or more "
            f"(in a benchmark file: budget = \"{smallest}\")"
        )
    iterations = math.floor(limit / cost)
    if budget.max_g_steps is not None:
        iterations = min(iterations, budget.max_g_steps)
    # The trainer snapshots at the first iteration whose progress reaches a fraction, and
    # takes the rest after the last iteration: two fractions reached together repeat a generator.
    per_iteration = max(cost / limit, 1 / budget.max_g_steps if budget.max_g_steps else 0.0)
    steps = [min(math.ceil(f / per_iteration - 1e-9), iterations) for f in fractions]
    if len(set(steps)) < len(steps):
        warnings.warn(GanbenchWarning(
            f"{what}: the budget {budget} pays for {iterations} iteration(s), so {len(steps) - len(set(steps))} of "
            f"the {len(fractions)} snapshots will repeat an earlier one's generator; raise the budget or list "
            f"fewer snapshot_fractions"
        ), stacklevel=2)
    return True


def warn_repeated_snapshots(snapshots: list[dict], what: str) -> None:
    """After training: warn when snapshots hold the same generator (for units checked only now)."""
    steps = [s["g_step"] for s in snapshots]
    if len(set(steps)) < len(steps):
        warnings.warn(GanbenchWarning(
            f"{what}: {len(steps) - len(set(steps))} of {len(steps)} snapshots repeat an earlier one's generator "
            f"(generator steps {steps}): the budget paid for too few iterations; raise it"
        ), stacklevel=2)
