"""Quality targets and compute-to-target (MLPerf Training's time-to-quality).

A benchmark file declares the quality a run must reach, e.g.::

    [target]
    modes = { at_least = 8 }
    high_quality = { at_least = 90 }
    "fid/fmnist-cnn" = { at_most_real_multiple = 5 }

``at_least`` / ``at_most`` are absolute; ``at_most_real_multiple = k`` means
"at most k times what real data scores" (the benchmark's real-data record).
A run first reaches the target at its first snapshot where every condition holds,
and holds it from the snapshot after which every later one does too (so a run
that ends below the target never held it);
its cost to target is that snapshot's FLOPs and device seconds. A run that
never does (or diverged) counts as not reaching it, never as missing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ganbench.core.errors import ConfigError

KINDS = ("at_least", "at_most", "at_most_real_multiple")


@dataclass(frozen=True)
class Condition:
    """One metric's threshold."""

    metric: str
    kind: str
    value: float

    def threshold(self, real: dict[str, float]) -> float:
        """The absolute threshold; NaN when it needs a real-data value that is missing."""
        if self.kind != "at_most_real_multiple":
            return self.value
        floor = real.get(self.metric)
        return self.value * floor if isinstance(floor, (int, float)) else math.nan

    def holds(self, value: float, real: dict[str, float]) -> bool:
        """Whether ``value`` meets the condition (never for NaN)."""
        t = self.threshold(real)
        if math.isnan(value) or math.isnan(t):
            return False
        return value >= t if self.kind == "at_least" else value <= t

    def text(self) -> str:
        """``modes ≥ 8``, ``fid/fmnist-cnn ≤ 5 × real``."""
        if self.kind == "at_most_real_multiple":
            return f"{self.metric} ≤ {self.value:g} × real data"
        return f"{self.metric} {'≥' if self.kind == 'at_least' else '≤'} {self.value:g}"


def parse_target(target: dict, where: str = "target") -> tuple[Condition, ...]:
    """Conditions of a ``[target]`` table; a clear ``ConfigError`` for anything else."""
    conditions = []
    for metric, spec in sorted(target.items()):
        if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in KINDS:
            raise ConfigError(f"{where}.{metric}: expected a table with one of {', '.join(KINDS)}, "
                              f"e.g. {metric} = {{ at_least = 8 }}; got {spec!r}")
        kind, value = next(iter(spec.items()))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(f"{where}.{metric}.{kind}: expected a finite number, got {value!r}")
        if kind == "at_most_real_multiple" and value <= 0:
            raise ConfigError(f"{where}.{metric}.{kind}: a multiple of the real floor must be > 0")
        conditions.append(Condition(metric, kind, float(value)))
    return tuple(conditions)


def target_text(conditions, real: dict[str, float] | None = None) -> str:
    """Human text of a target, with real-multiple thresholds resolved when known."""
    parts = []
    for c in conditions:
        t = c.threshold(real or {})
        extra = f" (= {t:.3g})" if c.kind == "at_most_real_multiple" and not math.isnan(t) else ""
        parts.append(c.text() + extra)
    return " and ".join(parts) or "none declared"


def first_reached(snapshots: list[tuple[float, float, dict]], conditions, real) -> tuple[float, float]:
    """(flops, seconds) of the first snapshot meeting every condition; (inf, inf) if none.

    ``snapshots``: (flops, seconds, metrics) in budget order.
    """
    for flops, seconds, metrics in snapshots:
        if conditions and all(c.holds(metrics.get(c.metric, math.nan), real) for c in conditions):
            return flops, seconds
    return math.inf, math.inf


def held_from(snapshots: list[tuple[float, float, dict]], conditions, real) -> tuple[float, float]:
    """(flops, seconds) of the snapshot from which every condition held to the end of
    the run (MLPerf's "reached and stayed"); (inf, inf) when the last snapshot misses.

    A run that crosses, drops back and crosses again is charged the last
    crossing, so a lucky early snapshot does not count as a cost to quality.
    """
    held = (math.inf, math.inf)
    for flops, seconds, metrics in reversed(snapshots):
        if not (conditions and all(c.holds(metrics.get(c.metric, math.nan), real)
                                   for c in conditions)):
            break
        held = (flops, seconds)
    return held
