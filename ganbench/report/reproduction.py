"""The Reproduction section: our numbers in a paper's own setting beside the paper's.

A benchmark reproduces one table of a data file in ``report/data/`` (see
``REPRODUCED_BY``). Per cell (method x metric): ours as mean ± standard error
over seeds, n and the epochs reached, beside the paper's mean ± SE; the
difference in combined standard errors, z = (ours - paper) / sqrt(SE_ours^2 +
SE_paper^2); and a verdict: *not comparable* when our runs trained for fewer
epochs than the paper (or fewer than two seeds give no SE), else *reproduced*
when |z| <= 2, else *not reproduced*. A pure function of the records.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from ganbench.core.record import FINAL_STATUSES

from .literature import REPRODUCED_BY, load_table
from .markdown import markdown_table
from .render import slug

#: Epochs the paper trained: PacGAN config.py "num_epoch": 400 (fjxmlzn/PacGAN, synthetic_data_experiments/).
PAPER_EPOCHS = {"pacgan-table1": 400}
#: |z| within this many combined standard errors counts as reproduced.
REPRODUCED_WITHIN = 2.0
METRIC_LABELS = {"modes": "modes", "high_quality": "high-quality samples (%)", "reverse_kl": "reverse KL"}


@dataclass(frozen=True)
class Cell:
    """One method x metric of a reproduced table."""

    benchmark: str
    method: str
    metric: str
    mean: float
    se: float
    n: int
    epochs: float
    paper_mean: float
    paper_se: float
    paper_n: int
    z: float
    verdict: str


def mean_se(values) -> tuple[float, float, int]:
    """Mean, standard error (sample std / sqrt n; NaN for n < 2) and n."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan, n


def verdict(mean: float, se: float, n: int, epochs: float, paper_mean: float, paper_se: float,
            paper_epochs: float) -> tuple[float, str]:
    """(z, verdict) of one cell; z is NaN when it cannot be formed."""
    if n < 2 or math.isnan(se):
        return math.nan, "not comparable"
    combined = math.hypot(se, paper_se)
    diff = mean - paper_mean
    z = 0.0 if diff == 0 else (math.copysign(math.inf, diff) if combined == 0 else diff / combined)
    if epochs + 1e-9 < paper_epochs:
        return z, "not comparable"
    return z, "reproduced" if abs(z) <= REPRODUCED_WITHIN else "not reproduced"


def run_epochs(record: dict, g_steps: int | None = None) -> float:
    """Epochs over the training split a run (or one of its snapshots) reached."""
    steps = record["spent"]["g_steps"] if g_steps is None else g_steps
    return steps * record["config"]["batch_size"] / record["train_size"]


def _records(records, results_dir: Path, benchmark: str) -> dict[str, list[dict]]:
    """method -> the records (JSON) of its ended runs, in seed order.

    Runs still training or interrupted are left out, as from the means: their epochs
    would otherwise pull "epochs reached" down.
    """
    runs = records.runs[records.runs["benchmark"] == benchmark].sort_values(["variant", "seed"])
    out: dict[str, list[dict]] = {}
    for method, rel in zip(runs["variant"], runs["record"]):
        record = json.loads((Path(results_dir) / rel).read_text())
        if record.get("status") in FINAL_STATUSES:
            out.setdefault(method, []).append(record)
    return out


def cells(records, results_dir: Path) -> list[Cell]:
    """Every cell of every reproduced table that has records."""
    found = []
    for benchmark, (name, dataset) in REPRODUCED_BY.items():
        table, per_method = load_table(name), _records(records, results_dir, benchmark)
        finals = records.finals[records.finals["benchmark"] == benchmark]
        for method, paper in table.cells[dataset].items():
            if method not in per_method:
                continue
            epochs = min(run_epochs(r) for r in per_method[method])
            for metric, (paper_mean, paper_se) in paper.items():
                values = finals.loc[(finals["variant"] == method) & (finals["metric"] == metric), "value"]
                mean, se, n = mean_se(values)
                z, word = verdict(mean, se, n, epochs, paper_mean, paper_se, PAPER_EPOCHS[name])
                found.append(Cell(benchmark, method, metric, mean, se, n, epochs, paper_mean, paper_se,
                                  table.trials, z, word))
    return found


def _z(cell: Cell) -> str:
    """z only where the verdict rests on it: a "not comparable" cell shows none."""
    return "—" if math.isnan(cell.z) or cell.verdict == "not comparable" else f"{cell.z:+.2f}"


def _fmt(mean: float, se: float) -> str:
    return "—" if math.isnan(mean) else f"{mean:.3g}" + ("" if math.isnan(se) else f" ± {se:.2g}")


def markdown(found: list[Cell], figures: dict[str, list[str]]) -> str:
    """The section's text: one table per benchmark, its source and caption, its figures."""
    parts = ["## Reproduction", "",
             "Our numbers in a paper's own setting beside the paper's. Ours: mean ± standard error over seeds "
             "(final snapshot); z: (ours − paper) / √(SE_ours² + SE_paper²). *reproduced*: |z| ≤ 2; "
             "*not comparable*: trained for fewer epochs than the paper, or fewer than 2 seeds; its z "
             "is not shown, since a difference at fewer epochs is no evidence either way.", ""]
    for benchmark in dict.fromkeys(c.benchmark for c in found):
        name, dataset = REPRODUCED_BY[benchmark]
        table, paper_epochs = load_table(name), PAPER_EPOCHS[name]
        rows = [[c.method, METRIC_LABELS.get(c.metric, c.metric), _fmt(c.mean, c.se), str(c.n), f"{c.epochs:g}",
                 f"{_fmt(c.paper_mean, c.paper_se)} (n={c.paper_n})", _z(c),
                 f"*{c.verdict}*"] for c in found if c.benchmark == benchmark]
        header = ["Method", "Metric", "Ours", "n", "Epochs", f"Paper ({paper_epochs} epochs)", "z", "Verdict"]
        parts += [f"### {benchmark}", "", markdown_table(header, rows), "",
                  f"*Paper: {table.source}, dataset {dataset}; ± is the {table.spread} over {table.trials} trials. "
                  f"Caption: \"{table.caption}\"*", ""]
        parts += [f"![{Path(p).stem}]({p})" for p in figures.get(benchmark, [])] + [""]
    return "\n".join(parts)


def curve_figure(method: str, runs: list[dict], paper: dict[str, tuple[float, float]], paper_epochs: int) -> Figure:
    """Each metric against epochs (a thin line per seed, their mean bold), the paper's value dashed."""
    metrics = list(paper)
    fig = Figure(figsize=(4.2 * len(metrics), 3.2), dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics):
        series = [[(run_epochs(r, s["g_step"]), s["metrics"].get(metric, math.nan)) for s in r["snapshots"]]
                  for r in runs]
        for points in series:
            ax.plot(*zip(*points), color="0.7", lw=0.8)
        if len({len(p) for p in series}) == 1:
            ax.plot([x for x, _ in series[0]], np.nanmean([[y for _, y in p] for p in series], axis=0),
                    color="C0", lw=2, marker="o", label="ours (mean)")
        mean, se = paper[metric]
        ax.axhline(mean, color="C3", ls="--", label=f"paper ({paper_epochs} epochs)")
        ax.axhspan(mean - se, mean + se, color="C3", alpha=0.15, lw=0)
        ax.set(xlabel="epoch", ylabel=METRIC_LABELS.get(metric, metric), title=f"{method}: {metric}")
    axes[0].legend(frameon=False, fontsize="small")
    return fig


def write(records, results_dir: Path, out: Path, write_file, figure_bytes) -> tuple[str, list[Path]]:
    """Write the figures under ``out/figures/``; return the section's markdown ('' when
    no benchmark reproduces a table) and the files written."""
    found = cells(records, results_dir)
    figures: dict[str, list[str]] = {}
    for benchmark in dict.fromkeys(c.benchmark for c in found):
        name, dataset = REPRODUCED_BY[benchmark]
        for method, runs in _records(records, results_dir, benchmark).items():
            if method in load_table(name).cells[dataset]:
                rel = f"figures/repro_{slug(benchmark)}_{slug(method)}.png"
                paper = load_table(name).cells[dataset][method]
                write_file(Path(out) / rel, figure_bytes(curve_figure(method, runs, paper, PAPER_EPOCHS[name])))
                figures.setdefault(benchmark, []).append(rel)
    written = [Path(out) / rel for rels in figures.values() for rel in rels]
    return (markdown(found, figures) if found else ""), written
