"""The "Variant settings" section of the report: which optimiser settings,
critic normalisation and variant options each variant ran with, per benchmark,
and how many generator and critic steps its equal compute budget bought.

Read from each record's ``config`` (the resolved run config), so it shows what
ran, whether it came from the variant's defaults or a benchmark file's
``[overrides.<variant>]``. Settings that differ between seeds are listed
per value with their seeds.
"""

from __future__ import annotations

import json
import statistics

from .load import Records

SETTING_KEYS = ("preset", "n_critic", "lr", "betas", "d_norm")  # RunConfig fields a variant's preset fills


def run_settings(config: dict) -> str:
    """One run's settings as ``preset=gan_toy, n_critic=5, lr=0.0001, ..., gp_weight=0.1``
    (``d_norm`` as the record resolved it: what the critic had)."""
    parts = [f"{key}={_format(config[key])}" for key in SETTING_KEYS if config.get(key) is not None]
    options = config.get("variant_options") or {}
    parts += [f"{key}={_format(value)}" for key, value in sorted(options.items())]
    return ", ".join(parts)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "(" + ", ".join(_format(v) for v in value) + ")"
    return str(value)


def settings_markdown(records: Records) -> str:
    """A "## Variant settings" section, one table per benchmark ("" without records).

    The steps column is the median over seeds of the generator / critic steps
    each run spent: under equal FLOPs a variant with costly iterations gets
    few (wgan's 100-critic-step warm-up buys 8 generator steps in quick
    stacked-fashion-mnist), which a reader needs in order to read its scores.
    """
    by_benchmark: dict[str, dict[str, dict[str, list[tuple]]]] = {}
    for run in records.runs.itertuples():
        record = json.loads((records.root / run.record).read_text())
        spent = record.get("spent") or {}
        rows = by_benchmark.setdefault(run.benchmark, {}).setdefault(run.variant, {})
        rows.setdefault(run_settings(record.get("config", {})), []).append(
            (int(run.seed), spent.get("g_steps"), spent.get("d_steps")))
    if not by_benchmark:
        return ""
    parts = ["## Variant settings", "",
             "What each variant ran with (its preset, the named reference configuration `ganbench list` traces"
             " to its source, and the benchmark file's overrides), from the records;"
             " steps: generator / critic steps the budget bought, median over seeds.", ""]
    for benchmark in sorted(by_benchmark):
        parts += [f"### {benchmark}", "", "| variant | settings | steps (G / D) |", "|---|---|--:|"]
        for variant, settings in sorted(by_benchmark[benchmark].items()):
            for text, runs in sorted(settings.items()):
                seeds = "" if len(settings) == 1 else f" (seeds {', '.join(str(r[0]) for r in sorted(runs))})"
                parts.append(f"| {variant} | {text}{seeds} | {_median_steps(runs, 1)} / {_median_steps(runs, 2)} |")
        parts.append("")
    return "\n".join(parts)


def _median_steps(runs: list[tuple], column: int) -> str:
    """Median of one steps column over runs, "?" where no record says."""
    values = [run[column] for run in runs if run[column] is not None]
    return f"{statistics.median(values):.0f}" if values else "?"
