"""The "Variant settings" section of the report: which optimiser settings,
critic normalisation and variant options each variant ran with, per benchmark.

Read from each record's ``config`` (the resolved run config), so it shows what
ran, whether it came from the variant's defaults or a benchmark file's
``[overrides.<variant>]``. Settings that differ between seeds are listed
per value with their seeds.
"""

from __future__ import annotations

import json

from .load import Records

SETTING_KEYS = ("n_critic", "lr", "betas", "d_norm")  # RunConfig fields a variant's defaults fill


def run_settings(config: dict) -> str:
    """One run's settings as ``n_critic=5, lr=0.0001, ..., gp_weight=0.1``."""
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
    """A "## Variant settings" section, one table per benchmark ("" without records)."""
    by_benchmark: dict[str, dict[str, dict[str, list[int]]]] = {}
    for run in records.runs.itertuples():
        config = json.loads((records.root / run.record).read_text()).get("config", {})
        seeds = by_benchmark.setdefault(run.benchmark, {}).setdefault(run.variant, {})
        seeds.setdefault(run_settings(config), []).append(int(run.seed))
    if not by_benchmark:
        return ""
    parts = ["## Variant settings", "",
             "What each variant ran with (its defaults, or the benchmark file's overrides), from the records.", ""]
    for benchmark in sorted(by_benchmark):
        parts += [f"### {benchmark}", "", "| variant | settings |", "|---|---|"]
        for variant, settings in sorted(by_benchmark[benchmark].items()):
            if len(settings) == 1:
                parts.append(f"| {variant} | {next(iter(settings))} |")
            else:
                for text, seeds in sorted(settings.items()):
                    parts.append(f"| {variant} | {text} (seeds {', '.join(map(str, sorted(seeds)))}) |")
        parts.append("")
    return "\n".join(parts)
