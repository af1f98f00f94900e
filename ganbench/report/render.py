"""Tables as Markdown (results/README.md) and LaTeX (for papers).

Pure string building: same tables in, same bytes out.
"""

from __future__ import annotations

import re

import pandas as pd

from ganbench.errors import GanbenchError

from .literature import SOUGHT, LiteratureResult, for_dataset
from .naming import arrow, metric_label
from .tables import CAPTION_STATS, BenchmarkTable, display_rows, format_estimate, summary_frame


def slug(name: str) -> str:
    """A file-name-safe form of a benchmark name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "benchmark"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; the first column left-aligned."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    align = [":--"] + ["--:"] * (len(header) - 1)
    return "\n".join([line(header), line(align)] + [line(r) for r in rows])


def _md_cell(text: str, best: bool, significant: bool) -> str:
    if best:
        return f"**{text}**"
    return f"{text} †" if significant else text


def caption(table: BenchmarkTable) -> str:
    """The table caption: benchmark, dataset, budget and how to read it."""
    return f"{table.benchmark}: dataset {table.dataset}, {table.budget}. {CAPTION_STATS}"


def benchmark_markdown(table: BenchmarkTable) -> str:
    """The Markdown table of one benchmark, with its caption."""
    header, rows = display_rows(table)
    body = markdown_table(header, [[_md_cell(*c) for c in row] for row in rows])
    return f"{body}\n\n*{caption(table)}*"


def summary_markdown(tables: list[BenchmarkTable]) -> str:
    """Cross-benchmark ranking: variants x benchmarks, cell = "rank · primary mean ± CI"."""
    frame = summary_frame(tables)
    header = ["Variant"]
    for t in tables:
        primary = t.primaries[0] if t.primaries else None
        header.append(f"{t.benchmark}: {metric_label(primary)} {arrow(primary)}".rstrip()
                      if primary else f"{t.benchmark}: (no metric)")
    rows = []
    for variant in sorted(frame["variant"].unique()):
        row = [variant]
        for t in tables:
            hit = frame[(frame["variant"] == variant) & (frame["benchmark"] == t.benchmark)]
            if hit.empty:
                row.append("not run")
                continue
            h = hit.iloc[0]
            row.append("—" if pd.isna(h["rank"]) else
                       f"{int(h['rank'])} · {format_estimate(h['mean'], h['half_width'], h['n'])}")
        rows.append(row)
    note = ("*Rank of each variant per benchmark (1 = best) by the benchmark's primary metric "
            "(for 2-D data modes, ties broken by reverse KL; for images FID), then that "
            "metric's mean ± 95 % t-interval over finished seeds. Ties share a rank; "
            "—: no finished run; not run: no records.*")
    return markdown_table(header, rows) + "\n\n" + note


def _literature_rows(table: BenchmarkTable, entries: list[LiteratureResult]):
    metrics = [m for m in table.metrics if any(m in e.metrics for e in entries)]
    header = ["Method", "Source"] + [f"{metric_label(m)} {arrow(m)}".rstrip() for m in metrics]
    rows = []
    for variant in table.variants:
        sub = table.summary[table.summary["variant"] == variant].set_index("metric")
        rows.append([f"{variant} (ours)", "this report"] + [
            format_estimate(sub.at[m, "mean"], sub.at[m, "half_width"], int(sub.at[m, "n"]))
            for m in metrics])
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
        entries = for_dataset(table.dataset, results)
        if entries:
            header, rows = _literature_rows(table, entries)
            notes = sorted({f"{e.source}: {e.setting}; ± is {e.error}. {e.note}".strip()
                            for e in entries})
            parts.append(f"**{table.benchmark}**\n\n{markdown_table(header, rows)}\n\n"
                         "*Ours: mean ± 95 % t-interval over finished seeds under our budget. "
                         "Theirs: as published; " + " ".join(notes) + "*")
        elif table.dataset in SOUGHT:
            parts.append(f"**{table.benchmark}**: no literature numbers shown. "
                         f"Sought: {SOUGHT[table.dataset]} (see ganbench/report/literature.py).")
    return "\n\n".join(parts)


_LATEX_TEXT = [("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
               ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"),
               ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")]
_LATEX_SYMBOLS = [("±", r"$\pm$"), ("†", r"$^\dagger$"), ("↑", r"$\uparrow$"),
                  ("↓", r"$\downarrow$"), ("—", "--"), ("<", r"$<$"), (">", r"$>$")]


_LATEX = dict(_LATEX_TEXT + _LATEX_SYMBOLS)


def latex_escape(text: str) -> str:
    """Escape LaTeX specials and map the report's Unicode symbols to math mode."""
    return "".join(_LATEX.get(ch, ch) for ch in str(text))


def benchmark_latex(table: BenchmarkTable) -> str:
    """A LaTeX table (booktabs rules) of one benchmark, via pandas' Styler."""
    header, rows = display_rows(table)

    def cell(text, best, significant):
        text = latex_escape(text)
        if best:
            return rf"\textbf{{{text}}}"
        return text + (r"$^\dagger$" if significant else "")

    frame = pd.DataFrame([[cell(*c) for c in row] for row in rows],
                         columns=[latex_escape(h) for h in header])
    try:
        styler = frame.style.hide(axis="index")
    except ImportError:   # pandas' Styler needs jinja2, an optional pandas dependency
        raise GanbenchError("--format latex needs jinja2: pip install jinja2") from None
    return styler.to_latex(caption=latex_escape(caption(table)), hrules=True,
                           label=f"tab:{slug(table.benchmark)}",
                           column_format="l" + "r" * (len(header) - 1), position="t")


def readme(tables: list[BenchmarkTable], figures: dict[str, list[tuple[str, str]]],
           n_records: int, skipped, selection: str = "", literature=None, machines=()) -> str:
    """The whole results/README.md: summary, literature, one section per benchmark.

    ``figures`` maps a benchmark to (relative path, caption) pairs; ``machines``:
    the distinct machines the records name (more than one gets a note).
    """
    parts = ["# ganbench results", "",
             f"Generated by `ganbench report` from {n_records} run records under `runs/`"
             f"{selection}. Regenerate it; do not edit by hand.", ""]
    if len(machines) > 1:
        parts += [f"*These records come from {len(machines)} machines ({'; '.join(machines)}). Float "
                  "rounding differs between CPUs from the first loss on, so the same seed gives "
                  "different runs on each: compare them as distributions over seeds.*", ""]
    parts += ["## Summary across benchmarks", "", summary_markdown(tables), ""]
    lit = literature_markdown(tables, literature)
    if lit:
        parts += ["## Literature", "", lit, ""]
    for table in tables:
        parts += [f"## {table.benchmark}", "", benchmark_markdown(table), ""]
        for path, text in figures.get(table.benchmark, []):
            alt = path.rsplit("/", 1)[-1].removesuffix(".png").replace("_", " ")
            parts += [f"![{alt}]({path})", "", f"*{text}*", ""]
    if skipped:
        parts += ["## Skipped records", "",
                  "These records could not be read and are not in any table:", ""]
        parts += [f"- `{s.path}`: {s.reason}" for s in skipped] + [""]
    return "\n".join(parts)
