"""Evaluation: scoring a run's snapshots into its record (:mod:`.evaluate`) and the
real-data reference row of every benchmark (:mod:`.realdata`). The metrics and
feature extractors themselves live in :mod:`ganbench.metrics` and
:mod:`ganbench.extractors`."""
