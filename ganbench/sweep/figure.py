"""The sweep figure: per-trial scores and the expected-best-of-k curve, all variants.

Drawn like the report's figures (bare Figure, Agg, fixed size and fonts, PNG
metadata pinned by :func:`ganbench.report.figures.figure_bytes`), with the
same colour per variant.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganbench.report.figures import DPI, figure_bytes, variant_palette

from .scoring import metric_title

_RC = {"font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9,
       "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8}


def finite(values) -> np.ndarray:
    """Float array with non-finite entries as NaN (matplotlib leaves gaps there)."""
    x = np.asarray(values, dtype=float)
    return np.where(np.isfinite(x), x, math.nan)


def _tick_label(sweep) -> str:
    diverged = sum(t.status == "diverged" for t in sweep.done)
    incomplete = len(sweep.trials) - len(sweep.done)
    lost = [f"{n} {what}" for n, what in ((diverged, "diverged"), (incomplete, "incomplete")) if n]
    return "\n".join([f"{sweep.variant} (n={len(sweep.done)})"] + lost)


def _trials_panel(ax, sweeps, palette) -> None:
    """Every complete trial's score (diverged ones at their failure score, when finite)."""
    variants = [s.variant for s in sweeps]
    rows = [{"variant": s.variant, "score": t.score} for s in sweeps for t in s.done if math.isfinite(t.score)]
    data = pd.DataFrame(rows, columns=["variant", "score"])
    if not data.empty:
        # swarmplot places points without random jitter: reproducible bytes.
        sns.swarmplot(data=data, x="variant", y="score", order=variants, hue="variant", hue_order=variants,
                      palette=palette, legend=False, size=5, edgecolor="0.2", linewidth=0.5, ax=ax)
    for i, s in enumerate(sweeps):  # the best trial, as the budget curve ends on it
        if s.best is not None and math.isfinite(s.best.score):
            ax.plot([i - 0.35, i + 0.35], [s.best.score] * 2, color=palette[s.variant], lw=1.2, ls="--")
    ax.set_xlim(-0.6, len(variants) - 0.4)
    ax.set_xticks(range(len(variants)), [_tick_label(s) for s in sweeps], rotation=30, ha="right")
    ax.set_xlabel("")
    ax.set_ylabel(metric_title(sweeps[0].goal))
    ax.set_title("score of every trial (dashed: best)")


def _curve_panel(ax, sweeps, curves: pd.DataFrame, palette) -> None:
    for s in sweeps:
        c = curves[curves["variant"] == s.variant]
        if c.empty:
            continue
        k = c["k"].to_numpy()
        ax.fill_between(k, finite(c["band_low"]), finite(c["band_high"]), color=palette[s.variant],
                        alpha=0.12, lw=0)
        ax.plot(k, finite(c["expected_best"]), color=palette[s.variant], marker="o", markersize=3.5,
                lw=1.6, label=s.variant)
    n_max = int(curves["k"].max()) if not curves.empty else 1
    ax.set_xlim(0.8, n_max + 0.2)
    ax.set_xticks(np.unique(np.linspace(1, n_max, min(n_max, 10)).round().astype(int)))
    ax.set_xlabel("trials k (each a full run under the budget)")
    ax.set_ylabel(f"expected best {metric_title(sweeps[0].goal)}")
    ax.set_title("expected best of k trials (band: 95 % bootstrap over trials)")
    # Outside the axes: bands of several variants fill the panel, "best" finds no free corner.
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def sweep_figure(benchmark: str, sweeps, curves: pd.DataFrame) -> bytes:
    """PNG bytes of the two-panel sweep figure of one benchmark."""
    from ganbench.variants import VARIANTS

    # Colours from every registered variant, as the main report assigns them
    # (it sees all variants), so a variant keeps its colour across reports.
    palette = variant_palette(set(VARIANTS.names()) | {s.variant for s in sweeps})
    settings = sweeps[0].settings
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        width = max(4.2, 0.9 * len(sweeps) + 1.5)
        fig = Figure(figsize=(width + 6.6, 4.2), dpi=DPI, layout="constrained")
        left, right = fig.subplots(1, 2, width_ratios=[width, 6.6])
        _trials_panel(left, sweeps, palette)
        _curve_panel(right, sweeps, curves, palette)
        fig.suptitle(f"{benchmark}: {settings['space']} search space, {settings['sampler']} sampler, "
                     f"{settings['budget']} per trial ({settings['profile']} profile)")
    return figure_bytes(fig)
