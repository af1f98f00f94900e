"""Tables as Markdown (results/README.md) and LaTeX (for papers).

Pure string building: same tables in, same bytes out.
"""

from __future__ import annotations

import re

import pandas as pd

from ganbench.core.errors import GanbenchError
from ganbench.metrics.naming import arrow, metric_label, split_key

from .coverage import kinds_note
from .literature import REPRODUCED_BY, SOUGHT, LiteratureResult, for_dataset
from .markdown import markdown_table
from .missing import missing_line
from .permutation import permutation_method
from .render_target import target_markdown
from .stats import ALPHA
from .tables import (
    CAPTION_STATS,
    VIEWS,
    BenchmarkTable,
    comparison_rows,
    display_rows,
    flagged_caption,
    format_interval,
    format_value,
    summary_frame,
)
from .wording import (
    CANNOT_SEPARATE,
    defined_note,
    interval_caption,
    real_row_note,
    separability_mark,
    separability_note,
)


def slug(name: str) -> str:
    """A file-name-safe form of a benchmark name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "benchmark"


def caption(table: BenchmarkTable) -> str:
    """The table caption: benchmark, dataset, budget, view and how to read it."""
    real = (f" Real data: {table.real_what}. {real_row_note(table.metrics)}" if table.real_what
            else " No real-data record.")
    return (f"{table.benchmark}: dataset {table.dataset}, {table.budget}. View: "
            f"{VIEWS[table.view]}. Intervals: {interval_caption(table.summary)}. "
            f"{CAPTION_STATS}{flagged_caption(table)}{real}")


def comparison_caption(table: BenchmarkTable) -> str:
    """How to read the comparison with the baseline."""
    return (f"{table.benchmark}, view: {VIEWS[table.view]}. Each variant against the declared "
            f"baseline {table.baseline}: probability of improvement P(X better than Y) + "
            "P(tie)/2 over its seeds X and the baseline's Y (direction-aware; 0.5 = no "
            f"difference) [{_improvement_kinds(table)}, each group resampled]; p: two-sided "
            f"permutation test of the same statistic ({_permutation_note(table)}), then "
            "Holm-corrected over the variants in the column; †: p < 0.05. "
            f"{separability_note(table.summary)} Reverse KL: (n=k v j) seeds it was defined "
            "for, variant v baseline.")


def _improvement_kinds(table: BenchmarkTable) -> str:
    tested = table.summary[table.summary["pi_low"].notna()]
    return kinds_note("improvement", tested["n"]).replace("[a, b] at ", "at ")


def _permutation_note(table: BenchmarkTable) -> str:
    """The permutation method of each seed-count pair tested in ``table``, largest first."""
    summary = table.summary
    # astype(bool): an empty object column would index columns, not rows (a mid-suite report
    # whose benchmark has no finished run yet)
    base_n = summary[summary["baseline"].astype(bool)].set_index("metric")["n"]
    tested = summary[summary["p_perm"].notna()]
    pairs = sorted({(int(r.n), int(base_n[r.metric])) for r in tested.itertuples()},
                   reverse=True)
    return "; ".join(permutation_method(*pair) for pair in pairs) or "no pair testable"


def _missing_note(table: BenchmarkTable) -> str:
    if not table.missing:
        return ""
    return (f"\n\nNot run yet (declared by the benchmark file, no records): "
            f"{', '.join(sorted(table.missing))}.")


def benchmark_markdown(table: BenchmarkTable) -> str:
    """The Markdown tables of one benchmark (results, comparison), with captions."""
    header, rows = display_rows(table)
    parts = [markdown_table(header, rows), f"*{caption(table)}*"]
    if table.baseline is not None:
        header, rows = comparison_rows(table)
        if rows:
            parts += [markdown_table(header, rows), f"*{comparison_caption(table)}*"]
    else:
        parts.append("*No comparison: the declared baseline variant has no records.*")
    return "\n\n".join(parts) + _missing_note(table)


def summary_markdown(tables: list[BenchmarkTable]) -> str:
    """Cross-benchmark summary: primary metric mean [CI] and P(better than baseline)."""
    frame = summary_frame(tables)
    header = ["Variant"]
    for t in tables:
        primary = t.primaries[0] if t.primaries else None
        header.append(f"{t.benchmark}: {metric_label(primary)} {arrow(primary)}".rstrip()
                      if primary else f"{t.benchmark}: (no metric)")
    rows = [["real data"] + [format_value(t.real.get(t.primaries[0])) if t.real and t.primaries
                             else "—" for t in tables]]
    for variant in sorted(frame["variant"].unique()):
        row = [variant]
        for t in tables:
            hit = frame[(frame["variant"] == variant) & (frame["benchmark"] == t.benchmark)]
            if hit.empty:
                row.append("not run")
                continue
            h = hit.iloc[0]
            cell = format_interval(h["mean"], h["ci_low"], h["ci_high"], int(h["n"]) if
                                   not pd.isna(h["n"]) else 0)
            if variant == t.baseline:
                cell += " (baseline)"
            elif not pd.isna(h["p_improve"]):
                cell += f" · P(>{t.baseline}) {h['p_improve']:.2f}"
                if not pd.isna(h["p_holm"]):
                    cell += f" p={h['p_holm']:.2g}" + separability_mark(h)
            row.append(cell)
        rows.append(row)
    floors = sorted({(int(n), f) for n, f in zip(frame["n"], frame["p_floor"])
                     if not pd.isna(f) and f >= ALPHA})
    cannot = "; ".join(f"{f:.2g} at {n} seeds" for n, f in floors)
    primaries = sorted({t.primaries[0] for t in tables if t.primaries})
    note = ("*Each benchmark's primary metric (2-D and stacked data: modes; images: FID): mean "
            f"[{kinds_note('mean', frame['n'].dropna())}], view: "
            f"{VIEWS[tables[0].view] if tables else ''}; then the probability P that the variant "
            "beats the benchmark's baseline (0.5: no difference) and its Holm-corrected "
            "permutation p (intervals in each benchmark's section). "
            f"{CANNOT_SEPARATE}: the seeds cannot reach p < {ALPHA:g} after Holm however the runs "
            "turn out" + (f" (smallest possible p: {cannot})" if cannot else "") + ", so a P of "
            "0.00 or 1.00 there is description, not evidence. "
            f"{real_row_note(primaries)} No ranking: with a few seeds "
            "the order of close variants may not survive a rerun on another machine. "
            "not run: no records.*")
    return markdown_table(header, rows) + "\n\n" + note + _fid_multiples(tables)


def _fid_multiples(tables: list[BenchmarkTable]) -> str:
    """FID as a multiple of the real-data floor, per benchmark that scores FID."""
    cols = [(t, m) for t in tables for m in t.metrics
            if split_key(m)[0] == "fid" and isinstance(t.real.get(m), (int, float)) and t.real[m] > 0]
    if not cols:
        return ""
    header = ["Variant"] + [f"{t.benchmark}: {metric_label(m)} ÷ real" for t, m in cols]
    rows = [["real data"] + [f"1 (= {format_value(t.real[m])})" for t, m in cols]]
    for variant in sorted({v for t, _ in cols for v in t.variants}):
        row = [variant]
        for t, m in cols:
            hit = t.summary[(t.summary["variant"] == variant) & (t.summary["metric"] == m)]
            if hit.empty:
                row.append("not run")
                continue
            h, floor = hit.iloc[0], t.real[m]
            row.append(format_interval(h["mean"] / floor, h["ci_low"] / floor,
                                       h["ci_high"] / floor, int(h["n"])) + "×")
        rows.append(row)
    return ("\n\n" + markdown_table(header, rows) + "\n\n*FID as a multiple of what held-out "
            "real images score under the same protocol (same feature extractor and sample "
            "counts): a floor no generator is expected to go below, though a finite-sample "
            "estimate can by chance.*")


def _ours(row) -> str:
    """Our mean [interval]; for reverse KL also the seeds it was defined for."""
    n, note = int(row["n"]), defined_note(row.name, int(row["n"]), int(row["undefined"]))
    if note and n == 1:
        return f"{row['mean']:.3g}{note}"
    return format_interval(row["mean"], row["ci_low"], row["ci_high"], n) + note


def _literature_rows(table: BenchmarkTable, entries: list[LiteratureResult]):
    metrics = [m for m in table.metrics if any(m in e.metrics for e in entries)]
    header = ["Method", "Source"] + [f"{metric_label(m)} {arrow(m)}".rstrip() for m in metrics]
    rows = []
    for variant in table.variants:
        sub = table.summary[table.summary["variant"] == variant].set_index("metric")
        rows.append([f"{variant} (ours)", "this report"] + [_ours(sub.loc[m]) for m in metrics])
    for e in entries:
        cells = []
        for m in metrics:
            value, err = e.metrics.get(m, (None, None))
            cells.append("—" if value is None else
                         f"{value:g}" + ("" if err is None else f" ± {err:g}"))
        rows.append([e.method, e.source] + cells)
    return header, rows


def literature_markdown(tables: list[BenchmarkTable], results=None) -> str:
    """Our numbers beside published ones for the same dataset, sources named."""
    parts = []
    for table in tables:
        if table.benchmark in REPRODUCED_BY:
            continue  # trained in the paper's own setting: the Reproduction section compares it
        entries = for_dataset(table.dataset, results)
        if entries:
            header, rows = _literature_rows(table, entries)
            notes = sorted({f"{e.source}: {e.setting}; ± is {e.error}. {e.note}".strip()
                            for e in entries})
            parts.append(f"**{table.benchmark}**\n\n{markdown_table(header, rows)}\n\n"
                         f"*Ours: mean [{interval_caption(table.summary)}] under our budget; "
                         "reverse KL: (n=k of N): defined for k of N seeds (no high-quality "
                         "sample leaves it undefined; a mean of few seeds is not the variant's). "
                         "Theirs: as published; " + " ".join(notes) + "*")
        elif table.dataset in SOUGHT:
            parts.append(f"**{table.benchmark}**: no literature numbers shown. "
                         f"Sought: {SOUGHT[table.dataset]} (see ganbench/report/literature.py).")
    return "\n\n".join(parts)


_LATEX_TEXT = [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
               ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
               ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")]
_LATEX_SYMBOLS = [("±", r"$\pm$"), ("†", r"$^\dagger$"), ("↑", r"$\uparrow$"),
                  ("↓", r"$\downarrow$"), ("—", "--"), ("<", r"$<$"), (">", r"$>$"),
                  ("∞", r"$\infty$"), ("≤", r"$\le$"), ("≥", r"$\ge$"), ("×", r"$\times$")]


_LATEX = dict(_LATEX_TEXT + _LATEX_SYMBOLS)


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and map the report's Unicode symbols to math mode."""
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


def benchmark_latex(table: BenchmarkTable) -> str:
    """A LaTeX table (booktabs rules) of one benchmark, via pandas' Styler."""
    header, rows = display_rows(table)
    frame = pd.DataFrame([[latex_escape(c) for c in row] for row in rows],
                         columns=[latex_escape(h) for h in header])
    try:
        styler = frame.style.hide(axis="index")
    except ImportError:   # pandas' Styler needs jinja2, an optional pandas dependency
        raise GanbenchError("--format latex needs jinja2: pip install jinja2") from None
    return styler.to_latex(caption=latex_escape(caption(table)), hrules=True,
                           label=f"tab:{slug(table.benchmark)}",
                           column_format="l" + "r" * (len(header) - 1), position="t")


def readme(tables: list[BenchmarkTable], figures: dict[str, list[tuple[str, str]]],
           n_records: int, skipped, selection: str = "", literature=None, machines=(), missing=None) -> str:
    """The whole results/README.md: summary, literature, one section per benchmark.

    ``figures`` maps a benchmark to (relative path, caption) pairs; ``machines``:
    the distinct machines the records name (more than one gets a note); ``missing``:
    benchmark -> (runs planned, run ids missing), from :func:`.missing.missing_runs`.
    """
    missing = missing or {}
    parts = ["# ganbench results", "",
             f"Generated by `ganbench report` from {n_records} run records under `runs/`"
             f"{selection}. Regenerate it; do not edit by hand.", ""]
    if len(machines) > 1:
        parts += [f"*These records come from {len(machines)} machines ({'; '.join(machines)}). Float "
                  "rounding differs between CPUs from the first loss on, so the same seed gives "
                  "different runs on each: compare them as distributions over seeds.*", ""]
    parts += ["## Summary across benchmarks", ""]
    to_target = target_markdown(tables)
    if to_target:
        parts += ["### Compute to target", "", to_target, ""]
    parts += ["### Final quality", "", summary_markdown(tables), ""]
    lit = literature_markdown(tables, literature)
    if lit:
        parts += ["## Literature", "", lit, ""]
    for table in tables:
        parts += [f"## {table.benchmark}", ""]
        if table.benchmark in missing:
            parts += [missing_line(table.benchmark, *missing[table.benchmark]), ""]
        parts += [benchmark_markdown(table), ""]
        for path, text in figures.get(table.benchmark, []):
            alt = path.rsplit("/", 1)[-1].removesuffix(".png").replace("_", " ")
            parts += [f"![{alt}]({path})", "", f"*{text}*", ""]
    not_started = [name for name in missing if name not in {t.benchmark for t in tables}]
    for name in not_started:
        parts += [f"## {name}", "", missing_line(name, *missing[name]), ""]
    if skipped:
        parts += ["## Skipped records", "",
                  "These records could not be read and are not in any table:", ""]
        parts += [f"- `{s.path}`: {s.reason}" for s in skipped] + [""]
    return "\n".join(parts)
