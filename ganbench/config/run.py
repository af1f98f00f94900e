"""Typed, frozen configuration: budgets and single-run settings.

Everything that reaches the trainer is a frozen dataclass; mappings from TOML or
the CLI are converted by :func:`ganbench.core.mapping.from_mapping`, which rejects unknown keys and
wrong types with a message naming where they came from.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

from ganbench.core.errors import ConfigError
from ganbench.core.mapping import json_ready

BUDGET_UNITS = {"flops": "flops", "flop": "flops", "s": "seconds", "sec": "seconds", "seconds": "seconds",
                "epoch": "epochs", "epochs": "epochs", "step": "g_steps", "steps": "g_steps"}
#: Units counted in generator steps (an epoch is len(train split) / batch_size of them).
STEP_UNITS = ("epochs", "g_steps")
SI_PREFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}
BUDGET_FORM = ("a number and a unit, e.g. '2e11flops', '50 GFLOPs', '1.5TFLOP', '600s' / '600 seconds', "
               "'400 epochs' or '5000 steps' (generator steps)")
_BUDGET_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgtp]?)(flops?|s|sec|seconds|epochs?|steps?)\s*$", re.I)


#: The string options of RunConfig and their values (the first is the default).
CHOICES = {"update": ("alternating", "simultaneous"), "real_packs": ("fresh", "fixed"),
           "eval_bn": ("population", "batch")}

#: Critic normalisations (models.build_models): benchmark files and `ganbench train --d-norm` take these.
D_NORMS = ("batch", "layer", "spectral", "none")
#: What each data kind's critic can have: the 2-D MLP has no normalisation layer, so
#: only spectral norm (a reparametrisation of its Linear layers) or none.
MODEL_NORMS = {"points": ("none", "spectral"), "images": D_NORMS}


@dataclass(frozen=True)
class Budget:
    """A compute allowance per run: ``limit`` FLOPs, device seconds, epochs
    over the training split or generator steps, optionally capped at
    ``max_g_steps`` generator steps. FLOPs spent are recorded whatever the unit."""

    unit: str
    limit: float
    max_g_steps: Optional[int] = None

    def __post_init__(self):
        if self.unit not in ("flops", "seconds") + STEP_UNITS:
            raise ConfigError(f"budget unit {self.unit!r} is unknown; use 'flops', 'seconds', 'epochs' or 'g_steps'")
        if not 0 < self.limit < math.inf:  # an infinite budget without a step cap never ends
            raise ConfigError(f"budget limit must be a positive finite number, got {self.limit}")
        if self.max_g_steps is not None and self.max_g_steps <= 0:
            raise ConfigError(f"max_g_steps must be positive, got {self.max_g_steps}")

    @classmethod
    def parse(cls, text: str, max_g_steps: Optional[int] = None) -> "Budget":
        """Parse '2e11flops', '50GFLOPs', '600s', '400epochs', '5000steps'. Only FLOPs take an SI prefix."""
        match = _BUDGET_RE.match(str(text))
        if not match or (match.group(2) and BUDGET_UNITS[match.group(3).lower()] != "flops"):
            raise ConfigError(f"malformed budget {text!r}: expected {BUDGET_FORM}")
        number, prefix, unit = match.groups()
        limit = float(number) * SI_PREFIXES[prefix.lower()]
        return cls(BUDGET_UNITS[unit.lower()], limit, max_g_steps)

    def __str__(self) -> str:
        text = {"flops": f"{self.limit:.3g} FLOPs", "seconds": f"{self.limit:g} s",
                "epochs": f"{self.limit:g} epochs", "g_steps": f"{self.limit:g} G steps"}[self.unit]
        return text + (f" (<= {self.max_g_steps} G steps)" if self.max_g_steps else "")


DEFAULT_FRACTIONS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one training run. ``None`` fields are filled
    from the variant's defaults (or the data kind) by :func:`resolve`."""

    variant: str
    dataset: str
    seed: int
    budget: Budget
    benchmark: Optional[str] = None
    batch_size: int = 64
    width: Optional[int] = None  # hidden units (MLP) / base channels (DCGAN)
    z_dim: Optional[int] = None
    lr: Optional[float] = None
    betas: Optional[tuple[float, float]] = None
    n_critic: Optional[int] = None
    d_norm: Optional[str] = None
    variant_options: dict = field(default_factory=dict)
    preset: Optional[str] = None  # the variant's named reference configuration; None: its default
    snapshot_fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    log_every: int = 10  # generator steps between loss-trace points
    checkpoint_every: int = 200  # generator steps between checkpoints
    device: str = "cpu"
    data_dir: Optional[str] = None
    channels_last: bool = False  # GPU options, off by default, recorded when on
    autocast_bf16: bool = False
    compile: bool = False
    # Architecture and optimiser settings of a published setting (e.g. PacGAN's,
    # see benchmarks/repro/). None / defaults: today's backbone, unchanged.
    entry: Optional[str] = None  # the name a benchmark files the run under (e.g. "PacGAN2"); None: the variant's
    pack: int = 1  # PacGAN's m: the critic scores m samples concatenated (Lin et al. 2018, Sec. 3)
    lr_g: Optional[float] = None  # per-network learning rates / Adam betas; None: `lr` / `betas` (both)
    lr_d: Optional[float] = None
    betas_g: Optional[tuple[float, float]] = None
    betas_d: Optional[tuple[float, float]] = None
    g_width: Optional[int] = None  # per-network width; None: `width`
    d_width: Optional[int] = None  # MLP critic: units per layer (maxout: units, each of d_maxout_pieces pieces)
    g_depth: Optional[int] = None  # MLP hidden layers; None: 3
    d_depth: Optional[int] = None
    g_batch_norm: bool = False  # MLP generator: batch norm before each hidden ReLU (PacGAN's generator)
    d_maxout_pieces: Optional[int] = None  # MLP critic: maxout layers of this many pieces instead of LeakyReLU
    init_std: Optional[float] = None  # weights ~ N(0, init_std^2), biases 0; None: PyTorch's default init
    # How PacGAN's code runs its entries (fjxmlzn/PacGAN synthetic_data_experiments/); defaults: ganbench's own.
    update: str = "alternating"  # "simultaneous": both networks' gradients from one batch, then both step (ALI's)
    g_per_slot: bool = False  # run the generator once per pack slot (batch norm statistics per slot); pack 1: no-op
    real_packs: str = "fresh"  # "fixed": len(train) packs drawn once from the run's seed, reshuffled each epoch
    eval_z_seed: Optional[int] = None  # one noise stream for every seed's scoring; None: seed + 10000
    eval_bn: str = "population"  # generator batch norm when scoring: running ("population") or "batch" statistics
    # EMA of the generator's weights, scored in its place (training/ema.py): half-life and cosine
    # ramp in generated samples; 0: off / constant. None: the variant's (r3gan's on, others' off).
    ema_half_life: Optional[float] = None
    ema_ramp: Optional[float] = None

    @property
    def label(self) -> str:
        """The name records and reports use: the benchmark's entry name, else the variant."""
        return self.entry or self.variant

    @property
    def run_id(self) -> str:
        """``benchmark/name/seedN``, how logs, claims and records name the run."""
        return f"{self.benchmark or 'train'}/{self.label}/seed{self.seed}"

    def __post_init__(self):
        for name in ("batch_size", "log_every", "checkpoint_every", "width", "z_dim", "n_critic", "pack",
                     "g_width", "d_width", "g_depth", "d_depth"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigError(f"{name} must be positive, got {value}")
        if self.d_maxout_pieces is not None and self.d_maxout_pieces < 2:
            raise ConfigError(f"d_maxout_pieces must be at least 2 (a maxout of one piece is linear), got {self.d_maxout_pieces}")
        for name in ("lr", "lr_g", "lr_d", "init_std"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ConfigError(f"{name} must be a positive finite number, got {value}")
        for name in ("ema_half_life", "ema_ramp"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ConfigError(f"{name} must be a finite number >= 0 (0: off), got {value}")
        for name in ("betas", "betas_g", "betas_d"):
            value = getattr(self, name)
            if value is not None and (len(value) != 2 or not all(0 <= b < 1 for b in value)):
                raise ConfigError(f"{name} must be two numbers in [0, 1), got {list(value)}")
        if self.d_norm is not None and self.d_norm not in D_NORMS:
            raise ConfigError(f"d_norm {self.d_norm!r} is unknown; valid: {', '.join(D_NORMS)}")
        for name, valid in CHOICES.items():
            if getattr(self, name) not in valid:
                raise ConfigError(f"{name} {getattr(self, name)!r} is unknown; valid: {', '.join(valid)}")
        check_fractions(self.snapshot_fractions)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists)."""
        return json_ready(dataclasses.asdict(self))


def check_fractions(fractions: tuple[float, ...]) -> None:
    """Snapshot fractions must be strictly increasing values in (0, 1]."""
    if not fractions or any(not 0 < f <= 1 for f in fractions) or list(fractions) != sorted(set(fractions)):
        raise ConfigError(f"snapshot_fractions must be increasing values in (0, 1], got {list(fractions)}")


# Defaults by data kind: MLP width and z size from the PacGAN toy setting
# (z in R^2); DCGAN width 64 and z in R^64 for small images.
KIND_DEFAULTS = {"points": {"width": 128, "z_dim": 2}, "images": {"width": 64, "z_dim": 64}}


def resolve(config: RunConfig, data_kind: str) -> RunConfig:
    """Fill every ``None`` from the variant's preset (its defaults and options) and
    the data kind, and resolve ``d_norm`` to what this kind's critic can have.

    The preset's options come first and the config's own override them, so the
    record's ``variant_options`` list every option the run used. A critic
    normalisation the preset names but the model cannot have (batch norm on the
    2-D MLP) resolves to "none"; asking for one explicitly is an error.
    """
    from ganbench.variants import VARIANTS, build_options_check

    variant = VARIANTS.get(config.variant)
    preset = variant.preset(config.preset)
    options = {**preset.options, **config.variant_options}
    build_options_check(variant, options)
    defaults = preset.defaults
    allowed = MODEL_NORMS[data_kind]
    if config.d_norm is not None and config.d_norm not in allowed:
        raise ConfigError(f"d_norm {config.d_norm!r} is not available for {data_kind} (the {_MODEL[data_kind]}); "
                          f"use one of {', '.join(allowed)}")
    fills = {
        "lr": defaults.lr,
        "betas": tuple(defaults.betas),
        "n_critic": defaults.n_critic,
        "d_norm": defaults.d_norm if defaults.d_norm in allowed else "none",
        "preset": variant.default_preset,
        "ema_half_life": defaults.ema_half_life,
        "ema_ramp": defaults.ema_ramp,
        **KIND_DEFAULTS[data_kind],
    }
    resolved = dataclasses.replace(config, **{k: v for k, v in fills.items() if getattr(config, k) is None})
    if resolved.update == "simultaneous" and resolved.n_critic != 1:
        raise ConfigError(f"update = 'simultaneous' takes one critic and one generator step from the same batch; "
                          f"{config.variant} runs n_critic = {resolved.n_critic}: set n_critic = 1 or use "
                          f"update = 'alternating'")
    return dataclasses.replace(resolved, variant_options=options)


_MODEL = {"points": "MLP critic, which has no normalisation layer", "images": "DCGAN critic"}
