"""What each metric key means to a report: display name, direction, order.

Metric keys are flat strings from the run record, e.g. ``modes`` or
``fid/fmnist-cnn``; the part after the slash names the feature extractor.
Reports always show the extractor in the header, so numbers from different
extractors can never be read as one column. The Frechet distance on DINOv2
features is a metric of its own, ``fd/dinov2-vit-l-14`` ("FD (DINOv2)", as
Stein et al. 2023 report FD_DINOv2): it is on another scale than FID, so it is
neither selected by ``fid`` nor ranked as FID.
"""

from __future__ import annotations

import math

from ganbench.metrics import LOWER_IS_BETTER, METRIC_RANGES  # the one home of directions and ranges

# Base metric -> display name, in table column order.
_NAMES: dict[str, str] = {
    "modes": "Modes", "high_quality": "High-quality", "reverse_kl": "Reverse KL",
    "fid": "FID", "fd": "FD", "is": "IS", "kid": "KID", "precision": "Precision", "recall": "Recall",
    "density": "Density", "coverage": "Coverage", "classes_covered": "Classes covered",
    "class_kl": "Class KL", "ndb": "NDB", "jsd": "JSD",
}
_BASE: dict[str, tuple[str, bool]] = {k: (name, not LOWER_IS_BETTER[k]) for k, name in _NAMES.items()}

# Column order in every table: mode-collapse metrics of 2-D data first, then
# sample-quality metrics, then the class/bin based ones.
_ORDER = list(_BASE)

# Extractor names as readers know them; anything else is shown upper-cased.
_EXTRACTORS = {"inception-v3-compat": "Inception", "fmnist-cnn": "FMNIST-CNN", "dinov2-vit-l-14": "DINOv2"}


def split_key(key: str) -> tuple[str, str | None]:
    """Split ``"fid/fmnist-cnn"`` into ``("fid", "fmnist-cnn")``."""
    base, _, extractor = key.partition("/")
    return base, (extractor or None)


def extractor_label(extractor: str) -> str:
    """Human name of a feature extractor: ``inception-v3-compat`` -> ``Inception``."""
    return _EXTRACTORS.get(extractor, extractor.upper())


def metric_label(key: str) -> str:
    """Column header for a metric key, naming the extractor when there is one.

    >>> metric_label("fid/fmnist-cnn")
    'FID (FMNIST-CNN)'
    >>> metric_label("fid/inception-v3-compat")
    'FID (Inception)'
    >>> metric_label("fd/dinov2-vit-l-14")
    'FD (DINOv2)'
    """
    base, extractor = split_key(key)
    name = _BASE.get(base, (key if extractor is None else base, True))[0]
    return name if extractor is None else f"{name} ({extractor_label(extractor)})"


def higher_is_better(key: str) -> bool | None:
    """True/False for known metrics, None when the direction is unknown."""
    entry = _BASE.get(split_key(key)[0])
    return None if entry is None else entry[1]


def metric_range(key: str) -> tuple[float, float]:
    """(low, high) a metric can take; (-inf, inf) when unknown."""
    return METRIC_RANGES.get(split_key(key)[0], (-math.inf, math.inf))


# Metrics a run with no usable sample has no value for (KL of an empty
# histogram): a diverged run leaves them undefined instead of at a worst value.
UNDEFINED_WHEN_EMPTY = frozenset({"reverse_kl"})


def worst_value(key: str) -> float:
    """The value a diverged run enters the aggregate with: the bad end of the
    metric's range (0 modes, FID +inf); NaN (undefined) for reverse KL and for
    metrics of unknown direction."""
    better = higher_is_better(key)
    if better is None or split_key(key)[0] in UNDEFINED_WHEN_EMPTY:
        return math.nan
    low, high = metric_range(key)
    return low if better else high


def arrow(key: str) -> str:
    """``↑``, ``↓`` or ``""`` (unknown direction) for a metric key."""
    better = higher_is_better(key)
    return "" if better is None else ("↑" if better else "↓")


def sort_metrics(keys) -> list[str]:
    """Known metrics in the fixed order, extractors sorted; unknown ones last."""
    def rank(key: str):
        base, extractor = split_key(key)
        known = base in _BASE
        return (not known, _ORDER.index(base) if known else 0, base, extractor or "")

    return sorted(set(keys), key=rank)


def primary_metrics(keys) -> list[str]:
    """The metrics that rank variants on a benchmark, most important first.

    Benchmarks that count modes (2-D mixtures, stacked datasets) are
    mode-collapse benchmarks and rank by modes covered, ties broken by reverse
    KL, as PacGAN and VEEGAN rank them, even where FID is also computed. The
    rest rank by FID (Inception when it was computed, since that is the number
    the literature quotes; otherwise the domain extractor); otherwise the first
    known metric decides (FD on DINOv2 features for records scored with DINOv2
    alone: adding DINOv2 numbers to a record never changes its ranking metric). This matches every benchmark file's
    ``primary_metric`` (a test checks it), without the report reading them.
    """
    keys = sort_metrics(keys)
    if "modes" in keys:
        return ["modes"] + (["reverse_kl"] if "reverse_kl" in keys else [])
    fids = [k for k in keys if split_key(k)[0] == "fid"]
    if fids:
        preferred = [k for k in fids if split_key(k)[1] == "inception-v3-compat"]
        return (preferred or fids)[:1]
    known = [k for k in keys if higher_is_better(k) is not None]
    return known[:1]
