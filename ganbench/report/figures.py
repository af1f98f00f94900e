"""Report figures: metric versus compute, per-seed distributions, samples.

Figures are drawn on bare ``matplotlib.figure.Figure`` objects (the Agg
renderer, no pyplot state), with fixed size, dpi and fonts, and saved without
the "Software" PNG text chunk, so the same records give the same bytes.
Each variant keeps one colour in every figure (see :func:`variant_palette`).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ganbench.datasets.mixtures import grid_centers, ring_centers
from ganbench.metrics.naming import arrow, metric_label

from .load import Records
from .stats import bootstrap_mean
from .tables import BenchmarkTable

DPI = 100
_RC = {"font.family": "DejaVu Sans", "font.size": 9, "axes.titlesize": 9,
       "axes.labelsize": 9, "xtick.labelsize": 8, "ytick.labelsize": 8,
       "legend.fontsize": 8, "svg.hashsalt": "ganbench"}

# True mode centres of the 2-D mixtures, from their one home.
MODE_CENTERS = {"ring8": ring_centers(8, 1.0).numpy(), "grid25": grid_centers().numpy()}
_VIEW = {"ring8": 1.6, "grid25": 5.5}   # half-width of the plotted square


def variant_palette(variants, benchmarks=None) -> dict[str, tuple]:
    """One colour per variant name.

    Build it once from every run in the records (before any --variant
    filter), so a variant keeps its colour in every figure of the report.
    ``variants`` and ``benchmarks`` are the runs' columns, row for row. Names
    that appear in more benchmarks come first, then by name: the registered
    variants, which every benchmark runs, take the colour-blind palette's ten
    distinct colours before the method labels of a reproduction benchmark do
    (sorted by name alone, eleven names fell back to evenly spaced hues, which
    drew hinge, loss-sensitive and lsgan in three near-identical greens).
    """
    variants = list(variants)
    benchmarks = [None] * len(variants) if benchmarks is None else list(benchmarks)
    seen_in: dict[str, set] = {}
    for variant, benchmark in zip(variants, benchmarks):
        seen_in.setdefault(variant, set()).add(benchmark)
    names = sorted(seen_in, key=lambda name: (-len(seen_in[name]), name))
    # Past ten names the darker variants of the same hues go to names listed
    # later (reproduction labels), which rarely share a figure with the first ten.
    colours = sns.color_palette("colorblind") + sns.color_palette("dark")
    if len(names) > len(colours):
        colours = sns.color_palette("husl", len(names))
    return {name: tuple(colours[i]) for i, name in enumerate(names)}


def figure_bytes(fig: Figure) -> bytes:
    """PNG bytes of a figure with pinned metadata (no software/version text)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _grid(n: int, width: float = 4.2, height: float = 3.2, ncols: int = 3, extra: float = 0.3):
    """A figure of ``n`` panels, ``ncols`` wide; ``extra`` inches for titles/legend."""
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(width * ncols, height * nrows + extra), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _legend(fig: Figure, variants, palette) -> None:
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], color=palette[v], marker="o", lw=2, label=v) for v in variants]
    # Below the panels: above them it would collide with the suptitle.
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6),
               frameon=False)


def _band(values) -> tuple[float, float]:
    est = bootstrap_mean(values)
    return (est.estimate, est.estimate) if math.isnan(est.low) else (est.low, est.high)


def curve_metrics(records: Records, table: BenchmarkTable) -> list[str]:
    """Metrics scored along the budget (at two or more fractions); the rest are
    final-only and get final-value panels, never a compute axis."""
    curves = records.curves[records.curves["benchmark"] == table.benchmark]
    fractions = curves.groupby("metric")["fraction"].nunique()
    return [m for m in table.metrics if fractions.get(m, 0) >= 2]


def _target_lines(ax, table: BenchmarkTable, metric: str) -> None:
    # The declared quality target, where it bounds this metric: compute-to-target
    # is where a seed's curve first crosses every such line.
    for condition in table.target:
        threshold = condition.threshold(table.real)
        if condition.metric == metric and math.isfinite(threshold):
            ax.axhline(threshold, ls="--", lw=1, color="0.3", zorder=1)
            ax.annotate("target", (0.01, threshold), xycoords=("axes fraction", "data"),
                        fontsize=7, color="0.3", va="bottom")


def curves_figure(records: Records, table: BenchmarkTable, palette) -> Figure | None:
    """Each metric scored along the way against compute spent: mean line and
    bootstrap band over finished seeds."""
    curves = records.curves[records.curves["benchmark"] == table.benchmark]
    unit = table.budget_unit
    curves = curves[curves["metric"].isin(curve_metrics(records, table)) & curves[unit].notna()]
    if curves.empty:
        return None
    # Seeds reach a budget fraction at slightly different costs (always so
    # for seconds); plot each fraction at its mean cost so seeds line up.
    curves = curves.assign(x=curves.groupby(["variant", "fraction"])[unit].transform("mean"))
    metrics = [m for m in table.metrics if m in set(curves["metric"])]
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        fig, axes = _grid(len(metrics), extra=0.6)
        for ax, metric in zip(axes, metrics):
            sub = curves[curves["metric"] == metric]
            sns.lineplot(data=sub, x="x", y="value", hue="variant", palette=palette,
                         hue_order=[v for v in table.variants if v in set(sub["variant"])],
                         errorbar=_band, marker="o", markersize=4, legend=False, ax=ax)
            ax.set_title(f"{metric_label(metric)} {arrow(metric)}".rstrip())
            _target_lines(ax, table, metric)
            ax.set_xlabel("FLOPs spent" if unit == "flops" else "seconds spent")
            ax.set_ylabel("")
        _legend(fig, table.variants, palette)
        fig.suptitle(f"{table.benchmark}: metrics scored along the budget versus compute "
                     "(mean, 95 % bootstrap band over finished seeds)")
    return fig


def _seed_labels(table: BenchmarkTable) -> list[str]:
    labels = []
    for c in table.counts.itertuples(index=False):
        lost = [f"{k} {name}" for k, name in ((c.diverged, "diverged"), (c.flagged, "not training"),
                                              (c.incomplete, "incomplete")) if k]
        labels.append("\n".join([c.variant] + lost))
    return labels


def _interval_bars(ax, values: dict[str, np.ndarray], palette) -> None:
    # The table's number (mean and bootstrap interval) beside each variant's points.
    for i, (variant, x) in enumerate(values.items()):
        est = bootstrap_mean(x[np.isfinite(x)])
        if est.n:
            err = None if math.isnan(est.low) else [[est.estimate - est.low], [est.high - est.estimate]]
            ax.errorbar(i + 0.36, est.estimate, yerr=err, fmt="_",
                        markersize=12, capsize=4, lw=1.5, color=palette[variant])


def seeds_figure(records: Records, table: BenchmarkTable, palette) -> Figure | None:
    """Final-value panels: the final metric of every finished seed per variant
    (points), with the mean and bootstrap interval of finished seeds beside them."""
    finals = records.finals[(records.finals["benchmark"] == table.benchmark)
                            & records.finals["metric"].isin(table.metrics)]
    if finals.empty:
        return None
    variants = table.variants
    with matplotlib.rc_context(_RC), sns.axes_style("whitegrid"):
        # Wide enough for the variant labels; fewer columns when there are many.
        width = max(3.2, 0.7 * len(variants) + 1.0)
        fig, axes = _grid(len(table.metrics), width=width, ncols=3 if width < 5 else 2)
        for ax, metric in zip(axes, table.metrics):
            sub = finals[finals["metric"] == metric]
            # swarmplot places points without random jitter: reproducible.
            sns.swarmplot(data=sub, x="variant", y="value", order=variants, hue="variant",
                          hue_order=variants, palette=palette, legend=False, size=3.5,
                          edgecolor="0.2", linewidth=0.5, ax=ax)
            _interval_bars(ax, {v: sub.loc[sub["variant"] == v, "value"].to_numpy(float)
                                for v in variants}, palette)
            ax.set_xlim(-0.6, len(variants) - 0.2)
            ax.set_xticks(range(len(variants)), _seed_labels(table), rotation=30, ha="right")
            ax.set_title(f"{metric_label(metric)} {arrow(metric)}".rstrip())
            ax.set_xlabel("")
            ax.set_ylabel("")
        fig.suptitle(f"{table.benchmark}: final metric per finished seed (points) with "
                     "mean and 95 % bootstrap interval of finished seeds (bar)")
    return fig


def _panel_run(runs: pd.DataFrame, variant: str) -> pd.Series:
    sub = runs[runs["variant"] == variant].sort_values("seed")
    zero = sub[sub["seed"] == 0]
    return (zero if not zero.empty else sub).iloc[0]


def _samples_path(root: Path, run: pd.Series, default: str) -> Path:
    return root / run["run_dir"] / (run["samples"] or default)


def _no_samples(ax, path: Path, err: Exception) -> None:
    why = "missing" if isinstance(err, FileNotFoundError) else type(err).__name__
    ax.text(0.5, 0.5, f"no samples\n({path.name}: {why})", ha="center", va="center",
            transform=ax.transAxes, zorder=5,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})


def _points_panel(ax, path: Path, dataset: str, colour) -> None:
    centers, half = MODE_CENTERS[dataset], _VIEW[dataset]
    try:
        points = np.load(path, allow_pickle=False)
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"shape {points.shape}, expected [N, 2]")
    except (OSError, ValueError) as err:
        _no_samples(ax, path, err)
        points = np.empty((0, 2))
    finite = points[np.isfinite(points).all(axis=1)]
    inside = (np.abs(finite) <= half).all(axis=1)
    # Modes as hollow rings under the samples: a filled marker on top would
    # hide exactly the points that matter (samples sitting on a mode).
    ax.scatter(centers[:, 0], centers[:, 1], marker="o", s=160, facecolors="none",
               edgecolors="0.3", linewidths=1.0, zorder=2)
    ax.scatter(finite[inside, 0], finite[inside, 1], s=4, alpha=0.5, color=colour,
               linewidths=0, zorder=3)
    if len(points) and (lost := len(points) - int(inside.sum())):
        ax.text(0.02, 0.02, f"{lost} of {len(points)} points outside view",
                transform=ax.transAxes, fontsize=7)
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")


def _image_panel(ax, path: Path) -> None:
    try:
        ax.imshow(matplotlib.image.imread(path), interpolation="nearest")
    except (OSError, ValueError, SyntaxError) as err:
        _no_samples(ax, path, err)
    ax.set_axis_off()


def samples_figure(records: Records, table: BenchmarkTable, palette) -> Figure | None:
    """Generated samples of seed 0 per variant: 2-D scatter over the true
    modes (grey rings) for ring8/grid25, the 8x8 sample grid otherwise."""
    runs = records.runs[records.runs["benchmark"] == table.benchmark]
    if runs.empty:
        return None
    dataset = str(runs["dataset"].iloc[0])
    points = dataset in MODE_CENTERS
    with matplotlib.rc_context(_RC), sns.axes_style("white"):
        fig, axes = _grid(len(table.variants), width=3.2, height=3.4, ncols=5)
        for ax, variant in zip(axes, table.variants):
            run = _panel_run(runs, variant)
            path = _samples_path(records.root, run, "samples.npy" if points else "samples.png")
            if points:
                _points_panel(ax, path, dataset, palette[variant])
            else:
                _image_panel(ax, path)
            status = "" if run["outcome"] == "finished" else f", {run['outcome']}"
            ax.set_title(f"{variant} (seed {run['seed']}{status})", color=palette[variant])
        what = "samples over the true modes (grey rings)" if points else "sample grids"
        fig.suptitle(f"{table.benchmark}: {what}")
    return fig
