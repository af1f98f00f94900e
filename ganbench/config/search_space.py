"""Search spaces: the ``[search_space.<name>]`` tables of a benchmark file.

A space maps a hyperparameter to how it is drawn::

    [search_space.wide]
    lr = { log_uniform = [1e-5, 1e-2] }
    beta1 = { uniform = [0.0, 1.0] }
    n_critic = { int = [1, 5] }
    d_norm = { choice = ["batch", "none"] }
    gp_weight = { log_uniform = [0.1, 100.0] }
    beta2 = 0.999                       # a bare value is fixed, not drawn

Names: ``lr``, ``beta1``, ``beta2``, ``n_critic``, ``d_norm`` (RunConfig fields),
or an option of some variant (``gp_weight``, ``margin_scale``...), which is
drawn only for the variants that have it. ``d_norm = "batch"`` means "batch
norm on": variants that must not use batch norm in the critic (their default
``d_norm`` is not "batch", e.g. penalised ones) get "layer" instead, so batch
norm on/off becomes layer norm on/off for them.

This module knows nothing of Optuna; :func:`distributions` converts a space
into Optuna distributions only when asked.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ganbench.config.run import RunConfig
from ganbench.core.errors import ConfigError

RUN_PARAMS = ("lr", "beta1", "beta2", "n_critic", "d_norm")
KINDS = ("uniform", "log_uniform", "int", "choice")
D_NORMS = ("batch", "layer", "none")
MAX_BETA = 1.0 - 1e-6


@dataclass(frozen=True)
class Param:
    """One hyperparameter's prior: ``kind`` in KINDS; ``low``/``high`` or ``choices``."""

    name: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "choice":
            return {"choice": list(self.choices)}
        return {self.kind: [self.low, self.high]}


def parse_space(table: Any, where: str) -> dict[str, Param]:
    """Validate one ``[search_space.<name>]`` table; errors name ``where`` and the key."""
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{where}: expected a non-empty table of hyperparameters")
    return {name: _parse_param(name, spec, f"{where}.{name}") for name, spec in sorted(table.items())}


def _parse_param(name: str, spec: Any, where: str) -> Param:
    _check_name(name, where)
    if not isinstance(spec, dict):  # a bare value: fixed
        return _checked(Param(name, "choice", choices=(spec,)), where)
    if len(spec) != 1 or next(iter(spec)) not in KINDS:
        raise ConfigError(f"{where}: expected exactly one of {', '.join(KINDS)}, e.g. {{ uniform = [0.0, 1.0] }}; "
                          f"got {spec!r}")
    kind, value = next(iter(spec.items()))
    if kind == "choice":
        if not isinstance(value, list) or not value:
            raise ConfigError(f"{where}: choice needs a non-empty list, got {value!r}")
        return _checked(Param(name, kind, choices=tuple(value)), where)
    if not (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise ConfigError(f"{where}: {kind} needs [low, high] numbers, got {value!r}")
    low, high = value
    if kind == "int" and not all(isinstance(v, int) for v in value):
        raise ConfigError(f"{where}: int needs integer bounds, got {value!r}")
    if not low < high:
        raise ConfigError(f"{where}: low must be below high, got {value!r}")
    if kind == "log_uniform" and low <= 0:
        raise ConfigError(f"{where}: log_uniform needs a positive low bound, got {low}")
    return _checked(Param(name, kind, low, high), where)


def _check_name(name: str, where: str) -> None:
    if name in RUN_PARAMS or name in variant_option_names():
        return
    raise ConfigError(f"{where}: unknown hyperparameter {name!r}; use one of {', '.join(RUN_PARAMS)} "
                      f"or a variant option ({', '.join(sorted(variant_option_names()))})")


def _checked(param: Param, where: str) -> Param:
    """Range checks that need the parameter's meaning."""
    values = list(param.choices) or [param.low, param.high]
    if param.name == "d_norm" and (param.kind != "choice" or not set(values) <= set(D_NORMS)):
        raise ConfigError(f"{where}: d_norm takes choice among {', '.join(D_NORMS)}, got {values!r}")
    if param.name == "n_critic" and not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                                            for v in values):
        raise ConfigError(f"{where}: n_critic must be integers >= 1, got {values!r}")
    if param.name in ("beta1", "beta2") and not all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in values):
        raise ConfigError(f"{where}: Adam betas lie in [0, 1], got {values!r}")
    if param.name == "lr" and not all(isinstance(v, (int, float)) and v > 0 for v in values):
        raise ConfigError(f"{where}: lr must be positive, got {values!r}")
    return param


def variant_option_names(variant: str | None = None) -> set[str]:
    """Option names of one registered variant, or of all of them."""
    from ganbench.variants import VARIANTS

    names = [variant] if variant else VARIANTS.names()
    return {f.name for n in names for f in dataclasses.fields(VARIANTS.get(n).Options)}


def load_spaces(search_space: dict, where: str) -> dict[str, dict[str, Param]]:
    """Every named space of a benchmark's ``search_space`` field, validated."""
    if not isinstance(search_space, dict):
        raise ConfigError(f"{where}: search_space must be a table of named spaces")
    return {name: parse_space(table, f"{where}.search_space.{name}") for name, table in search_space.items()}


def space_for(bench, space: str) -> dict[str, Param]:
    """The named space of a benchmark; a clear error when it declares none or another."""
    spaces = load_spaces(bench.search_space, f"benchmark {bench.name}")
    if space not in spaces:
        declared = ", ".join(sorted(spaces)) or "none"
        raise ConfigError(f"benchmark {bench.name!r} declares no search space {space!r} (declared: {declared}); "
                          f"add [search_space.{space}] to its TOML file")
    return spaces[space]


def variant_space(space: dict[str, Param], variant: str) -> dict[str, Param]:
    """The space as it applies to one variant, in a fixed order: RunConfig fields
    first, variant options last (so the shared draws line up across variants).

    Options the variant lacks are dropped; "batch" becomes "layer" in ``d_norm``
    for variants whose default critic has no batch norm.
    """
    from ganbench.variants import VARIANTS

    options = variant_option_names(variant)
    out = {}
    for name in sorted(space, key=lambda n: (n not in RUN_PARAMS, n)):
        param = space[name]
        if name not in RUN_PARAMS and name not in options:
            continue
        if name == "d_norm" and VARIANTS.get(variant).defaults.d_norm != "batch":
            mapped = tuple(dict.fromkeys("layer" if c == "batch" else c for c in param.choices))
            param = dataclasses.replace(param, choices=mapped)
        out[name] = param
    return out


def apply_params(template: RunConfig, params: dict[str, Any]) -> RunConfig:
    """``template`` with the drawn hyperparameters written into its fields.

    ``beta1``/``beta2`` fill one side of ``betas``; the other side keeps the
    template's (benchmark override) or the variant's default value.
    """
    from ganbench.variants import VARIANTS

    changes: dict[str, Any] = {k: params[k] for k in ("lr", "n_critic", "d_norm") if k in params}
    if "beta1" in params or "beta2" in params:
        b1, b2 = template.betas or VARIANTS.get(template.variant).defaults.betas
        # Adam needs beta < 1; the uniform [0, 1] prior reaches 1.0 with probability zero,
        # but a sampler that returns the bound must not crash the trial.
        changes["betas"] = tuple(min(float(params.get(k, d)), MAX_BETA) for k, d in (("beta1", b1), ("beta2", b2)))
    options = {k: v for k, v in params.items() if k not in RUN_PARAMS}
    if options:
        changes["variant_options"] = {**template.variant_options, **options}
    return dataclasses.replace(template, **changes)


def params_of(config: dict[str, Any], names) -> dict[str, Any]:
    """The inverse of :func:`apply_params`: read ``names`` back from a record's config."""
    out = {}
    for name in names:
        if name in ("beta1", "beta2"):
            betas = config.get("betas") or [None, None]
            out[name] = betas[0 if name == "beta1" else 1]
        elif name in RUN_PARAMS:
            out[name] = config.get(name)
        else:
            out[name] = (config.get("variant_options") or {}).get(name)
    return out


def distributions(space: dict[str, Param]) -> dict[str, Any]:
    """Optuna distributions for a (variant) space, in its order."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    out = {}
    for name, p in space.items():
        if p.kind == "choice":
            out[name] = CategoricalDistribution(list(p.choices))
        elif p.kind == "int":
            out[name] = IntDistribution(int(p.low), int(p.high))
        else:
            out[name] = FloatDistribution(float(p.low), float(p.high), log=p.kind == "log_uniform")
    return out
