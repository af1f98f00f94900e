"""Narrowing loaded records to the benchmarks, variants and metrics asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .load import Records


def _matches(key: str, wanted) -> bool:
    # `--metric fid` selects every extractor's FID; `--metric fid/fmnist-cnn` one.
    return key in wanted or key.partition("/")[0] in wanted


def select(records: Records, benchmarks=None, variants=None, metrics=None) -> Records:
    """Keep only the named benchmarks, variants and metrics (None keeps all).

    Raises :class:`NoRecordsError` naming what is available when a filter
    matches nothing.
    """
    # Imported here: the package re-exports this function eagerly, and load.py imports
    # pandas, which ``ganbench.report``'s light entry points must not pay for.
    from .load import NoRecordsError, Records

    runs, finals, curves = records.runs, records.finals, records.curves
    for column, wanted in (("benchmark", benchmarks), ("variant", variants)):
        if not wanted:
            continue
        available = sorted(runs[column].unique())
        unknown = sorted(set(wanted) - set(available))
        if unknown:
            raise NoRecordsError(f"no records for {column} {', '.join(unknown)}; "
                                 f"available: {', '.join(available)}")
        runs = runs[runs[column].isin(wanted)]
        finals = finals[finals[column].isin(wanted)]
        curves = curves[curves[column].isin(wanted)]
    if metrics:
        known = sorted(set(records.finals["metric"]) | set(records.curves["metric"]))
        if known and not any(_matches(k, metrics) for k in known):
            raise NoRecordsError(f"no run has metric {', '.join(metrics)}; "
                                 f"available: {', '.join(known)}")
        finals = finals[finals["metric"].map(lambda m: _matches(m, metrics)).astype(bool)]
        curves = curves[curves["metric"].map(lambda m: _matches(m, metrics)).astype(bool)]
    return Records(records.root, runs.reset_index(drop=True), finals.reset_index(drop=True),
                   curves.reset_index(drop=True), records.skipped, records.real, records.declared)
