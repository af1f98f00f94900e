"""Scoring generated samples: pure functions of samples, features extracted once per set.

Public API:

- ``score_points(fake [N, 2], info) -> dict``: ``modes``, ``high_quality``, ``reverse_kl``
  (PacGAN definitions; score ``POINT_SAMPLES`` = 2500 points).
- ``score_images(fake_uint8 [N, C, H, W], dataset, ...) -> dict``: ``fid/<ext>`` (``fd/<ext>``
  on DINOv2 features),
  ``is/<ext>``, ``kid/<ext>``, ``precision/<ext>``, ``recall/<ext>``,
  ``density/<ext>``, ``coverage/<ext>``, ``classes_covered``/``class_kl`` (or
  ``modes``/``reverse_kl`` for stacked data), ``ndb``, ``jsd``.
- ``stability_summary(snapshots, metric, lower_is_better) -> dict``.
- ``LOWER_IS_BETTER``: the direction of every metric key prefix; ``METRIC_RANGES`` its range.

Errors a user can fix raise ``MetricError`` (a ``ValueError``).
"""

from __future__ import annotations

from ganbench.core.lazy import lazy_getattr

# The scoring functions load torch, torch-fidelity and scikit-learn (seconds of
# imports); the directions and ranges below do not. They are attributes resolved
# on first use (PEP 562), so a report or the CLI can read LOWER_IS_BETTER without
# paying for the scorers; ``from ganbench.metrics import fid`` works as before.
_LAZY = {
    "MetricError": "ganbench.extractors.errors",
    **dict.fromkeys(("density_coverage", "fid", "fid_from_statistics", "fid_statistics", "inception_score",
                     "kid", "precision_recall"), "ganbench.metrics.fidelity"),
    **dict.fromkeys(("IMAGE_METRICS", "IMAGE_SAMPLES", "score_images"), "ganbench.metrics.images"),
    **dict.fromkeys(("POINT_SAMPLES", "score_points"), "ganbench.metrics.modes"),
    **dict.fromkeys(("fit_bins", "ndb_jsd"), "ganbench.metrics.ndb"),
    "stability_summary": "ganbench.metrics.stability",
}


__getattr__ = lazy_getattr(__name__, _LAZY, globals())


#: Direction of each metric (key before any "/extractor" suffix).
LOWER_IS_BETTER = {
    "fid": True, "fd": True, "kid": True, "is": False, "precision": False, "recall": False,
    "density": False, "coverage": False, "modes": False, "high_quality": False,
    "reverse_kl": True, "classes_covered": False, "class_kl": True, "ndb": True, "jsd": True,
}

_INF = float("inf")
#: Range (low, high) of each metric, the same keys. Upper bounds that depend on
#: the dataset (modes of M, classes, IS <= classes) are given as inf here; the
#: bad end is what a generator with no usable sample scores (a diverged run,
#: counted at its worst). KID's unbiased estimate can be negative. NDB is the
#: fraction of bins that differ; JSD (natural log) is at most ln 2.
METRIC_RANGES = {
    "fid": (0.0, _INF), "fd": (0.0, _INF), "kid": (-_INF, _INF), "is": (1.0, _INF), "precision": (0.0, 1.0),
    "recall": (0.0, 1.0), "density": (0.0, _INF), "coverage": (0.0, 1.0), "modes": (0.0, _INF),
    "high_quality": (0.0, 100.0), "reverse_kl": (0.0, _INF), "classes_covered": (0.0, _INF),
    "class_kl": (0.0, _INF), "ndb": (0.0, 1.0), "jsd": (0.0, 0.6931471805599453),
}

__all__ = [
    "IMAGE_METRICS", "IMAGE_SAMPLES", "LOWER_IS_BETTER", "METRIC_RANGES", "MetricError", "POINT_SAMPLES",
    "density_coverage", "fid", "fid_from_statistics", "fid_statistics", "fit_bins", "inception_score",
    "kid", "ndb_jsd", "precision_recall", "score_images", "score_points", "stability_summary",
]
