"""Benchmark definitions: ``benchmarks/NAME.toml`` -> :class:`BenchmarkConfig` -> runs.

A benchmark fixes a dataset, an architecture size, the variants compared and,
per profile (``smoke``, ``quick``, ``full``), one compute budget shared by every
variant, the seeds and the evaluation sample counts. See benchmarks/README.md.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from ganbench.config.run import DEFAULT_FRACTIONS, Budget, RunConfig, check_fractions
from ganbench.core.errors import ConfigError, UnknownNameError
from ganbench.core.mapping import from_mapping

# `paper` and `cpu`: the reproduction benchmarks' sizes (benchmarks/repro/).
PROFILES = ("smoke", "quick", "full", "paper", "cpu")
#: Benchmarks in this subdirectory run only when named (not by `--all`).
REPRO_DIR = "repro"
DEFAULT_PROFILE = "quick"


@dataclass(frozen=True)
class TrainSettings:
    """Training settings shared by every variant (None: the variant's / kind's default).
    The architecture and optimiser keys are RunConfig's (see its comments);
    an entry's or override's own lr / betas / pack win over these."""

    batch_size: int = 64
    width: Optional[int] = None
    z_dim: Optional[int] = None
    log_every: int = 10
    checkpoint_every: int = 200
    g_width: Optional[int] = None
    d_width: Optional[int] = None
    g_depth: Optional[int] = None
    d_depth: Optional[int] = None
    g_batch_norm: bool = False
    d_maxout_pieces: Optional[int] = None
    init_std: Optional[float] = None
    lr: Optional[float] = None
    betas: Optional[tuple[float, float]] = None
    lr_g: Optional[float] = None
    lr_d: Optional[float] = None
    betas_g: Optional[tuple[float, float]] = None
    betas_d: Optional[tuple[float, float]] = None
    update: str = "alternating"  # how PacGAN's code runs its entries: see RunConfig
    g_per_slot: bool = False
    real_packs: str = "fresh"
    eval_z_seed: Optional[int] = None
    eval_bn: str = "population"
    ema_half_life: Optional[float] = None  # EMA of the generator (training/ema.py); None: the variant's
    ema_ramp: Optional[float] = None


@dataclass(frozen=True)
class EvalSettings:
    """How snapshots are scored: sample counts, extractor, which snapshots."""

    n_samples: int = 10_000  # generated samples per snapshot (Lucic et al.: 10k)
    n_real: Optional[int] = None  # real test samples; None = the whole test split
    extractor: Optional[str] = None  # image benchmarks: "fmnist-cnn", "inception-v3-compat", "dinov2-vit-l-14"
    snapshots: str = "all"  # "all" or "last"

    def __post_init__(self):
        if self.snapshots not in ("all", "last"):
            raise ConfigError(f"eval.snapshots must be 'all' or 'last', got {self.snapshots!r}")
        if self.n_samples <= 0:
            raise ConfigError(f"eval.n_samples must be positive, got {self.n_samples}")
        if self.n_real is not None and self.n_real <= 0:
            raise ConfigError(f"eval.n_real must be positive (or left out for the whole test split), got {self.n_real}")


@dataclass(frozen=True)
class Profile:
    """One size of a benchmark: its budget, seeds and overrides of train/eval."""

    budget: str
    seeds: tuple[int, ...] = (0, 1, 2)
    max_g_steps: Optional[int] = None
    snapshot_fractions: tuple[float, ...] = DEFAULT_FRACTIONS
    train: TrainSettings = field(default_factory=TrainSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)

    def __post_init__(self):
        Budget.parse(self.budget, self.max_g_steps)  # fail at load time, not mid-suite
        check_fractions(self.snapshot_fractions)
        if not self.seeds:
            raise ConfigError("seeds must list at least one seed")
        if len(set(self.seeds)) < len(self.seeds):  # one seed is one run directory: a repeat is not a new run
            raise ConfigError(f"seeds must not repeat, got {list(self.seeds)}")


@dataclass(frozen=True)
class VariantOverride:
    """Per-variant hyperparameters that differ from the variant's defaults."""

    lr: Optional[float] = None
    betas: Optional[tuple[float, float]] = None
    n_critic: Optional[int] = None
    d_norm: Optional[str] = None
    options: dict = field(default_factory=dict)
    lr_g: Optional[float] = None
    lr_d: Optional[float] = None
    betas_g: Optional[tuple[float, float]] = None
    betas_d: Optional[tuple[float, float]] = None
    pack: Optional[int] = None  # PacGAN's m (None: 1, no packing)
    preset: Optional[str] = None  # a named reference configuration of the variant (None: its default)


@dataclass(frozen=True)
class Entry(VariantOverride):
    """A named entry of a benchmark: a registered variant plus settings, e.g.
    ``[entries.PacGAN2] variant = "vanilla"``, ``pack = 2``. Runs and reports
    carry the entry's name."""

    variant: str = ""


# Settings a run takes from the entry / override first, then the profile's `train`.
_LAYERED = ("lr", "betas", "lr_g", "lr_d", "betas_g", "betas_d")
_ARCHITECTURE = ("g_width", "d_width", "g_depth", "d_depth", "g_batch_norm", "d_maxout_pieces", "init_std",
                 "update", "g_per_slot", "real_packs", "eval_z_seed", "eval_bn",
                 "ema_half_life", "ema_ramp")


@dataclass(frozen=True)
class BenchmarkConfig:
    """A parsed benchmark file."""

    name: str
    dataset: str
    profiles: dict[str, Profile]
    description: str = ""
    variants: tuple[str, ...] = ()  # empty: every registered variant
    primary_metric: str = "fid"
    baseline: str = "vanilla"  # every variant is compared with this one in the report
    target: dict = field(default_factory=dict)  # quality to reach, see ganbench/targets.py
    target_note: str = ""  # why this target (shown under the compute-to-target table)
    overrides: dict[str, VariantOverride] = field(default_factory=dict)
    search_space: dict = field(default_factory=dict)  # read by `ganbench sweep`
    entries: dict[str, Entry] = field(default_factory=dict)  # named variant + settings; replaces `variants`

    def variant_names(self) -> list[str]:
        """The names runs are filed under: the entries' names, else the variants'."""
        from ganbench.variants import VARIANTS

        return list(self.entries) or list(self.variants) or VARIANTS.names()

    def _entry(self, name: str) -> tuple[str, VariantOverride, Optional[str]]:
        """(variant, its settings, entry name or None) for a name of variant_names()."""
        if name in self.entries:
            return self.entries[name].variant, self.entries[name], name
        return name, self.overrides.get(name, VariantOverride()), None

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise UnknownNameError(
                f"benchmark {self.name!r} has no profile {name!r}; it defines: {', '.join(sorted(self.profiles))}"
            )
        return self.profiles[name]

    def with_seeds(self, profile: str, seeds: tuple[int, ...]) -> "BenchmarkConfig":
        """This benchmark with ``profile`` run on ``seeds`` instead of its file's (if it has it)."""
        if profile not in self.profiles:
            return self
        return replace(self, profiles={**self.profiles, profile: replace(self.profiles[profile],
                                                                         seeds=tuple(seeds))})

    def run_configs(self, profile: str, device: str = "cpu") -> list[RunConfig]:
        """Every (variant, seed) run of a profile, in a fixed order."""
        p = self.profile(profile)
        budget = Budget.parse(p.budget, p.max_g_steps)
        configs = []
        for name in self.variant_names():
            variant, o, entry = self._entry(name)
            layered = {k: getattr(o, k) if getattr(o, k) is not None else getattr(p.train, k) for k in _LAYERED}
            for seed in p.seeds:
                configs.append(RunConfig(
                    variant=variant, dataset=self.dataset, seed=seed, budget=budget, benchmark=self.name,
                    batch_size=p.train.batch_size, width=p.train.width, z_dim=p.train.z_dim,
                    n_critic=o.n_critic, d_norm=o.d_norm, variant_options=dict(o.options), preset=o.preset,
                    snapshot_fractions=p.snapshot_fractions, log_every=p.train.log_every,
                    checkpoint_every=p.train.checkpoint_every, device=device,
                    entry=entry, pack=1 if o.pack is None else o.pack, **layered, **{k: getattr(p.train, k) for k in _ARCHITECTURE},
                ))
        return configs


def load_benchmark(path: Path) -> BenchmarkConfig:
    """Parse and validate one benchmark file; every error names the file and key."""
    from ganbench.datasets import DATASETS
    from ganbench.variants import VARIANTS

    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    data.setdefault("name", path.stem)
    config = from_mapping(BenchmarkConfig, data, str(path))
    try:
        DATASETS.get(config.dataset)
    except UnknownNameError as exc:
        raise ConfigError(f"{path}: dataset: {exc}") from None
    _check_entries(config, path)
    if "variants" in data and not config.variants:
        raise ConfigError(f"{path}: variants = [] lists no variant; leave the key out to compare every registered one")
    if len(set(config.variants)) < len(config.variants):
        raise ConfigError(f"{path}: variants must not repeat, got {list(config.variants)}")
    check_extractors(config, path)
    for where, names in (("variants", config.variants), ("overrides", tuple(config.overrides))):
        for name in names:
            if name not in VARIANTS:
                raise ConfigError(f"{path}: {where}: unknown variant {name!r}; valid variants: {', '.join(VARIANTS.names())}")
    # The default baseline may be absent from a short variants list (no comparison then);
    # a baseline the file names must be one of its variants.
    if "baseline" in data and config.baseline not in config.variant_names():
        raise ConfigError(f"{path}: baseline: {config.baseline!r} is not among the benchmark's variants "
                          f"({', '.join(config.variant_names())}); name one of them")
    from ganbench.config.targets import parse_target

    parse_target(config.target, f"{path}: target")
    for name, override in config.overrides.items():
        _check_settings(VARIANTS.get(name), override, f"{path}: overrides.{name}")
    if config.search_space:  # fail at load time, not when `ganbench sweep` starts
        from ganbench.config.search_space import load_spaces

        load_spaces(config.search_space, str(path))
    unknown_profiles = sorted(set(config.profiles) - set(PROFILES))
    if unknown_profiles or not config.profiles:
        raise ConfigError(f"{path}: profiles must be among {', '.join(PROFILES)}; got {sorted(config.profiles) or 'none'}")
    for name in config.profiles:  # every run config must build: fail now, not mid-suite
        try:
            config.run_configs(name)
        except ConfigError as exc:
            raise ConfigError(f"{path}: profiles.{name}: {exc}") from None
    return config


def _check_entries(config: BenchmarkConfig, path: Path) -> None:
    """Entries name a registered variant and valid options; they replace `variants`."""
    from ganbench.variants import VARIANTS

    if config.entries and config.variants:
        raise ConfigError(f"{path}: give either `variants` or `entries`, not both (entries name their variant)")
    for name, entry in config.entries.items():
        if entry.variant not in VARIANTS:
            raise ConfigError(f"{path}: entries.{name}.variant: unknown variant {entry.variant!r}; "
                              f"valid variants: {', '.join(VARIANTS.names())}")
        _check_settings(VARIANTS.get(entry.variant), entry, f"{path}: entries.{name}")


def _check_settings(variant_cls, override: VariantOverride, where: str) -> None:
    """The override's variant options and preset must exist; errors name ``where`` and the key."""
    from ganbench.variants import build_options_check

    try:
        build_options_check(variant_cls, override.options)
    except ConfigError as exc:
        raise ConfigError(f"{where}.options: {exc}") from None
    try:
        variant_cls.preset(override.preset)
    except ConfigError as exc:
        raise ConfigError(f"{where}.preset: {exc}") from None


def check_extractors(config: BenchmarkConfig, path: Path) -> None:
    """Every profile's eval.extractor must be registered (scoring is hours after loading)."""
    from ganbench.extractors import EXTRACTORS

    for name, profile in config.profiles.items():
        if profile.eval.extractor is not None and profile.eval.extractor not in EXTRACTORS:
            raise ConfigError(f"{path}: profiles.{name}.eval.extractor: unknown extractor {profile.eval.extractor!r}; "
                              f"valid extractors: {', '.join(EXTRACTORS.names())}")


def discover(benchmarks_dir: Path, names: tuple[str, ...] = ()) -> list[BenchmarkConfig]:
    """Load all benchmarks in a directory (``perf/`` excluded), or just ``names``.

    Reproduction benchmarks (``repro/``) load only when named: they are sized
    for a paper's own setting, not for `--all`'s shared budgets.
    """
    benchmarks_dir = Path(benchmarks_dir)
    if not benchmarks_dir.is_dir():
        raise ConfigError(f"benchmark directory {benchmarks_dir} does not exist; pass --benchmarks-dir")
    available = {p.stem: p for p in sorted(benchmarks_dir.glob("*.toml"))}
    by_name = {**{p.stem: p for p in sorted((benchmarks_dir / REPRO_DIR).glob("*.toml"))}, **available}
    for name in names:
        if name not in by_name:
            raise UnknownNameError(f"unknown benchmark {name!r}; valid benchmarks: {', '.join(by_name) or '(none)'}")
    return [load_benchmark(by_name[n]) for n in (names or tuple(available))]
