"""The sweep README: protocol, search space, budget-curve table, best configurations.

Pure string building from the loaded sweep (same records, same bytes).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ganbench.report.markdown import markdown_table

from .budget_curve import BAND, BOOTSTRAP_RESAMPLES
from .scoring import metric_title

_KIND = {"uniform": "uniform", "log_uniform": "log-uniform", "int": "integer"}


def fmt(value) -> str:
    """A number as the tables show it: 4 significant digits, inf spelt out, — for missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def _prior(spec: dict) -> str:
    kind, value = next(iter(spec.items()))
    if kind == "choice":
        return value[0] if len(value) == 1 and isinstance(value[0], str) else (
            fmt(value[0]) if len(value) == 1 else "{" + ", ".join(map(str, value)) + "}")
    return f"{_KIND[kind]} [{fmt(value[0])}, {fmt(value[1])}]"


def _ks(n: int) -> list[int]:
    """Budget-curve columns: 1, 2, 4, ... and N."""
    ks = [k for k in (2 ** i for i in range(12)) if k < n]
    return ks + [n]


def param_names(sweeps) -> list[str]:
    """Every hyperparameter drawn for some variant, sorted: the tables' columns."""
    return sorted({n for s in sweeps for n in s.settings.get("params", {})})


def protocol(sweeps) -> str:
    s, goal = sweeps[0].settings, sweeps[0].goal
    failure = fmt(goal.failure)
    return (f"**Protocol** (Lucic et al. 2018, \"Are GANs Created Equal?\"): each trial is one ordinary run "
            f"whose hyperparameters are drawn from the `{s['space']}` search space by the `{s['sampler']}` "
            f"sampler (seed {s['seed']}), trained under the benchmark's budget of {s['budget']} "
            f"(`{s['profile']}` profile) and scored by {metric_title(goal)} at the end of the budget. "
            f"A diverged trial counts, with the score {failure} (the metric's worst).")


def counts_table(sweeps) -> str:
    rows = []
    for s in sweeps:
        scores = np.array([t.score for t in s.done], dtype=float)
        status = [t.status for t in s.trials]
        rows.append([s.variant, str(len(s.trials)), str(status.count("finished")), str(status.count("diverged")),
                     str(len(s.trials) - len(s.done)),
                     fmt(float(np.median(scores))) if scores.size else "—",
                     fmt(s.best.score) if s.best else "—"])
    return markdown_table(["Variant", "Trials", "Finished", "Diverged", "Incomplete", "Median score",
                           "Best score"], rows)


def space_table(sweeps) -> str:
    names = param_names(sweeps)
    rows = [[s.variant] + [_prior(s.settings["params"][n]) if n in s.settings.get("params", {}) else "—"
                           for n in names] for s in sweeps]
    return markdown_table(["Variant"] + names, rows)


def curve_table(curves: pd.DataFrame) -> str:
    if curves.empty:
        return "*No complete trials yet.*"
    n = int(curves["k"].max())
    ks = _ks(n)
    rows = []
    for variant, c in curves.groupby("variant", sort=True):
        c = c.set_index("k")
        rows.append([variant] + [f"{fmt(c.at[k, 'expected_best'])} [{fmt(c.at[k, 'band_low'])}, "
                                 f"{fmt(c.at[k, 'band_high'])}]" if k in c.index else "—" for k in ks])
    return markdown_table(["Variant"] + [f"k = {k}" for k in ks], rows)


def best_table(best: pd.DataFrame, sweeps) -> str:
    if best.empty:
        return "*No complete trials yet.*"
    names = param_names(sweeps)
    rows = []
    for r in best.to_dict("records"):
        if r["rerun_seeds"]:
            half = "" if math.isnan(r["rerun_half_width"]) else f" ± {fmt(r['rerun_half_width'])}"
            rerun = f"{fmt(r['rerun_mean'])}{half} (n={r['rerun_finished']}"
            rerun += f", {r['rerun_diverged']} diverged)" if r["rerun_diverged"] else ")"
        else:
            rerun = "not re-run"
        rows.append([r["variant"], str(r["trial"])] + [fmt(r.get(n)) for n in names] + [fmt(r["score"]), rerun])
    return markdown_table(["Variant", "Trial"] + names + ["Sweep score", "Re-runs: mean ± 95 % CI"], rows)


def _space_note(sweeps) -> str:
    note = "*Variant options such as `gp_weight` are drawn only for the variants that have them."
    if any("d_norm" in s.settings.get("params", {}) for s in sweeps):
        note += (" `d_norm` \"batch\" (batch norm in the critic) is \"layer\" for variants that must not "
                 "use batch norm.")
    return note + "*"


def readme(benchmark: str, sweeps, curves: pd.DataFrame, best: pd.DataFrame) -> str:
    """The whole ``results/sweeps/<benchmark>/README.md``."""
    low, high = (f"{100 * q:g} %" for q in BAND)
    n = sum(len(s.trials) for s in sweeps)
    parts = [
        f"# Hyperparameter sweep: {benchmark}", "",
        f"Generated from {n} trial records under this directory (`<variant>/trial<k>/record.json`) by "
        "`ganbench report` / `ganbench sweep`. Regenerate it; do not edit by hand.", "",
        protocol(sweeps), "", counts_table(sweeps), "",
        "## Search space", "", space_table(sweeps), "", _space_note(sweeps), "",
        "## Scores and the budget curve", "", f"![sweep of {benchmark}](sweep.png)", "",
        "*Left: the score of every complete trial per variant (dashed: the best). Right: the expected best "
        "score among k trials drawn at random from the N run, computed exactly from the order statistics "
        f"(without replacement); the band is a {low}–{high} percentile bootstrap over trials "
        f"({BOOTSTRAP_RESAMPLES} resamples with replacement, fixed seed). A curve that rises steeply and "
        "then flattens: a few trials suffice; a curve still rising at k = N: the variant needs more tuning "
        "than this sweep gave it. Compare variants at equal k, i.e. equal total compute.*", "",
        "## Expected best after k trials", "", curve_table(curves), "",
        f"*E[best of k] [{low}, {high} bootstrap band]; k = N is the best trial itself.*", "",
        "## Best configuration per variant", "", best_table(best, sweeps), "",
        "*The best trial (ties broken by the report's secondary metric, then the lower trial number) and "
        "its configuration re-run over seeds 0, 1, ... (`ganbench sweep --rerun-best SEEDS`) under the same "
        "budget, as ordinary runs in `<variant>/best-trial<k>/seed<s>/`: mean ± 95 % Student-t interval over "
        "finished re-runs. A best trial far above its re-runs was a lucky seed.*", "",
    ]
    return "\n".join(parts)
