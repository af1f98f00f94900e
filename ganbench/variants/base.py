"""What a GAN variant is: its losses and its defaults, nothing else.

The trainer is identical for every variant; a variant only says how to score
a batch (``d_loss``, ``g_loss``) and which optimiser settings and critic
normalisation it ships with. Scores ``D(x)`` are raw logits / critic values.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import torch
from torch import Tensor, nn

from ganbench.core.errors import ConfigError
from ganbench.core.registry import Registry

VARIANTS: Registry[type["Variant"]] = Registry("variant")


def register_variant(name: str):
    """Class decorator: ``@register_variant("my-gan")`` makes it trainable by name."""

    def decorate(cls: type[Variant]) -> type[Variant]:
        cls.name = name
        return VARIANTS.register(name)(cls)

    return decorate


#: Adam's fused kernel (one pass per parameter tensor instead of a dozen elementwise
#: ops): the same update rule (Kingma & Ba 2015), a different rounding order than
#: torch's default for-loop version, repeatable for a fixed seed on one machine.
#: benchmarks/perf/step_levers.py: 0.87x the quick MLP step, 0.97x the quick
#: DCGAN step (2 loaded cores); foreach was bit-identical to the default but no
#: faster on the MLP. Recorded as the record's "optimizer".
#: On by default since the quick results and the stability baseline were retrained
#: with it (issue 16); set it to {} for torch's for-loop Adam.
ADAM_IMPL: dict = {"fused": True}


@dataclass(frozen=True)
class Defaults:
    """Training settings a variant ships with; benchmark files may override them.

    ``d_norm`` is the critic's normalisation: "batch", "layer", "spectral" or
    "none". Penalised objectives must not use batch norm: the penalty is per sample.
    """

    n_critic: int = 1
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_norm: str = "batch"
    d_weight_decay: float = 0.0
    optimizer: str = "adam"  # "adam" or "rmsprop" (see Variant.make_optimizer)
    #: An exponential moving average of the generator's weights, scored in its place
    #: (training/ema.py): its half-life in generated samples (0: off) and the samples
    #: over which that half-life ramps up from 0 along a cosine (0: constant).
    ema_half_life: float = 0.0
    ema_ramp: float = 0.0
    #: The reference these settings come from: repository@commit file:lines (``ganbench list`` shows it).
    source: str = ""


@dataclass(frozen=True)
class Preset:
    """A named reference configuration of a variant: its training defaults plus the
    variant options that reference uses. Chosen with ``preset`` in a benchmark file's
    overrides or ``ganbench train --preset``; the record's config says which ran."""

    defaults: Defaults
    options: dict = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class NoOptions:
    """Variants without hyperparameters of their own."""


class Variant:
    """Base class: subclasses set ``defaults`` and implement the objectives.

    ``d_objective`` / ``g_objective`` work on scores alone (known-answer
    testable); ``d_loss`` / ``g_loss`` take the critic and the batches, for
    objectives that need more than scores (penalties, margins).
    """

    name: ClassVar[str] = "?"
    defaults: ClassVar[Defaults] = Defaults()
    #: The name of the configuration ``defaults`` describes, and other named ones.
    default_preset: ClassVar[str] = "default"
    presets: ClassVar[dict[str, Preset]] = {}
    Options: ClassVar[type] = NoOptions
    #: True when d_loss differentiates the critic's output w.r.t. its input
    #: (create_graph=True): torch.compile's AOTAutograd cannot double-backward.
    double_backward: ClassVar[bool] = False
    #: True when the generator's loss pairs its fakes with real samples (RpGAN): the
    #: trainer then draws a fresh real batch for the generator step (see g_step_loss).
    g_uses_real: ClassVar[bool] = False

    def __init__(self, **options: Any):
        self.options = build_options(self.Options, options, self.name)

    @classmethod
    def preset(cls, name: str | None = None) -> Preset:
        """The named reference configuration (None: the default one)."""
        if name is None or name == cls.default_preset:
            return Preset(cls.defaults)
        if name not in cls.presets:
            valid = ", ".join([cls.default_preset, *sorted(cls.presets)])
            raise ConfigError(f"variant {cls.name!r} has no preset {name!r}; valid presets: {valid}")
        return cls.presets[name]

    @classmethod
    def preset_names(cls) -> list[str]:
        """The default preset's name, then the alternatives."""
        return [cls.default_preset, *sorted(cls.presets)]

    # --- score-level objectives -------------------------------------------------
    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        raise NotImplementedError

    # --- batch-level losses used by the trainer ---------------------------------
    def d_loss(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """Critic loss on a real batch and a (detached) fake batch."""
        return self.d_objective(critic(real), critic(fake))

    def g_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        """Generator loss on a fake batch that carries the generator's graph."""
        return self.g_objective(critic(fake))

    def g_step_loss(self, critic: nn.Module, fake: Tensor, real_batch: Callable[[], Tensor]) -> Tensor:
        """The generator step's loss as the trainer asks for it: ``g_loss`` on the fakes.
        A variant with ``g_uses_real`` overrides it and draws ``real_batch()``."""
        return self.g_loss(critic, fake)

    # --- training hooks (the trainer calls these; defaults change nothing) --------
    def weight_decay(self, role: str) -> float:
        """L2 weight decay of the optimiser of ``role`` ("generator" or "critic")."""
        return self.defaults.d_weight_decay if role == "critic" else 0.0

    def make_optimizer(self, role: str, params, *, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        """The optimiser of ``role`` ("generator" or "critic"): ``defaults.optimizer``
        with the run's lr (and betas for Adam) and :meth:`weight_decay`."""
        kind, decay = self.defaults.optimizer, self.weight_decay(role)
        if kind == "adam":
            return torch.optim.Adam(params, lr=lr, betas=tuple(betas), weight_decay=decay, **ADAM_IMPL)
        if kind == "rmsprop":  # torch's defaults (alpha 0.99, eps 1e-8), as WGAN's PyTorch reference uses them
            return torch.optim.RMSprop(params, lr=lr, weight_decay=decay)
        raise ConfigError(f"variant {self.name!r}: unknown optimizer {kind!r}; valid: adam, rmsprop")

    def critic_steps(self, g_step: int, n_critic: int) -> int:
        """Critic steps before generator step ``g_step`` (0-based); the run's n_critic by default."""
        return n_critic

    def before_d_step(self, critic: nn.Module) -> None:
        """Called before every critic step's forward pass (e.g. WGAN's clamp, where its code puts it)."""

    def after_d_step(self, critic: nn.Module) -> None:
        """Called after every critic optimiser step (e.g. weight clipping)."""


def optimizer_record(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """What a record says of an optimiser: its class and whether it runs fused."""
    return {"name": type(optimizer).__name__, "fused": bool(optimizer.defaults.get("fused"))}


def build_options(options_cls: type, values: dict[str, Any], variant: str):
    """Build a variant's frozen options dataclass, rejecting unknown keys and wrong types by name."""
    from ganbench.core.mapping import from_mapping

    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        valid = ", ".join(sorted(fields)) or "(none)"
        raise ConfigError(f"variant {variant!r} has no option(s) {unknown}; valid options: {valid}")
    options = from_mapping(options_cls, dict(values), f"variant {variant!r} options")
    for name, value in vars(options).items():
        if isinstance(value, float) and not (math.isfinite(value) and value >= 0):
            raise ConfigError(f"variant {variant!r} option {name} must be a finite number >= 0, got {value}")
    return options


def interpolate(real: Tensor, fake: Tensor) -> Tensor:
    """x_hat = x + a (G(z) - x), a ~ U[0, 1] per sample, without gradient."""
    alpha = torch.rand((real.shape[0],) + (1,) * (real.dim() - 1), device=real.device)
    return (real + alpha * (fake - real)).detach()


def input_gradient(fn: Callable[[Tensor], Tensor], x: Tensor) -> tuple[Tensor, Tensor]:
    """``(fn(x), d fn(x).sum() / dx)`` from one forward pass, the gradient with a graph so
    a penalty on it trains ``fn``'s parameters (double backprop).

    A run alone uses ``torch.autograd.grad`` at a view of a fresh leaf (not the leaf
    itself: FlopCounterMode cannot follow ``autograd.grad`` with respect to a leaf, and
    the view costs nothing). Inside a seed group's ``vmap`` (training/group.py) autograd
    cannot be called, and ``torch.func.grad`` computes the same gradient.
    """
    if torch._C._functorch.maybe_current_level() is not None:
        def summed(t: Tensor) -> tuple[Tensor, Tensor]:
            out = fn(t)
            return out.sum(), out

        grad, out = torch.func.grad(summed, has_aux=True)(x.detach())
        return out, grad
    leaf = x.detach().requires_grad_(True)
    view = leaf.view_as(leaf)
    out = fn(view)
    (grad,) = torch.autograd.grad(out.sum(), view, create_graph=True)
    return out, grad


def gradient_norm(critic: Callable[[Tensor], Tensor], x: Tensor) -> Tensor:
    """Per-sample ||grad_x D(x)||_2, with a graph so it can be penalised."""
    return input_gradient(critic, x)[1].flatten(1).norm(2, dim=1)


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates of real and fake pairs
    (Gulrajani et al. 2017); ``critic`` may be any function of x, e.g. L = relu(D)."""
    return ((gradient_norm(critic, interpolate(real, fake)) - 1.0) ** 2).mean()
