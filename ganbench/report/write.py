"""``write_report``: records in, README/CSV/LaTeX/PNG files out.

A pure function of the records: nothing is trained or scored, and the same
records give byte-identical files (sorted rows, fixed float formats, pinned
figure metadata). Files are written atomically, so a reader never sees half
a table.
"""

from __future__ import annotations

from pathlib import Path

from ganbench.core.io import atomic_write_bytes

from .figures import curves_figure, figure_bytes, samples_figure, seeds_figure, variant_palette
from .formats import FORMATS, parse_formats  # noqa: F401 (FORMATS re-exported)
from .load import Records, load_records
from .missing import missing_runs
from .render import benchmark_latex, readme, slug
from .select import select
from .settings import settings_markdown
from .stats import INTERVAL_KIND
from .tables import BenchmarkTable, build_tables, csv_frame, summary_frame

CSV_FLOAT = "%.10g"


def _write(path: Path, data: bytes) -> Path:
    atomic_write_bytes(path, data)
    return path


def _csv_bytes(frame) -> bytes:
    return frame.to_csv(index=False, float_format=CSV_FLOAT, lineterminator="\n").encode()


def _write_figures(records: Records, table: BenchmarkTable, palette, out: Path):
    """Draw and save one benchmark's figures; return (relative path, caption) pairs."""
    unit = "FLOPs" if table.budget_unit == "flops" else "seconds"
    specs = [
        ("curves", curves_figure, f"{table.benchmark}: each metric scored along the budget "
         f"versus {unit} spent, mean over finished seeds with a {INTERVAL_KIND} band "
         "(diverged and incomplete runs are not drawn; metrics scored only at the end are in "
         "the final-value panels below); dashed: the declared quality target."),
        ("seeds", seeds_figure, f"{table.benchmark}: final-value panels: the final metric of "
         f"every finished seed (points) with the mean and {INTERVAL_KIND} of finished seeds "
         "(bar); tick labels count diverged and incomplete runs (the table counts diverged "
         "runs at the worst value)."),
        ("samples", samples_figure, f"{table.benchmark}: generated samples of seed 0 per "
         "variant" + (" over the true modes (grey rings)."
                      if table.dataset in ("ring8", "grid25") else ".")),
    ]
    done = []
    for kind, draw, text in specs:
        fig = draw(records, table, palette)
        if fig is None:
            continue
        rel = f"figures/{slug(table.benchmark)}_{kind}.png"
        _write(out / rel, figure_bytes(fig))
        done.append((rel, text))
    return done


def _selection_text(benchmarks, variants, metrics, view: str = "all") -> str:
    parts = [f"{name} {', '.join(sorted(values))}" for name, values in
             (("benchmarks", benchmarks), ("variants", variants), ("metrics", metrics)) if values]
    if view != "all":
        parts.append("finished runs only")
    return f" (selected {'; '.join(parts)})" if parts else ""


def write_report(results_dir, out_dir=None, benchmarks=None, variants=None, metrics=None,
                 formats=("markdown", "csv"), view: str = "all") -> list[Path]:
    """Regenerate the report of ``results_dir`` and return the files written.

    Reads ``results_dir/runs/**/record.json``; writes into ``out_dir``
    (default ``results_dir``): ``README.md`` (format "markdown"),
    ``tables/<benchmark>.csv`` and ``tables/summary.csv`` ("csv"),
    ``tables/<benchmark>.tex`` ("latex") and ``figures/*.png`` (always).
    ``benchmarks``/``variants``/``metrics`` restrict the report (a metric
    name without extractor, e.g. "fid", selects every extractor). ``view``:
    "all" (diverged runs at the metric's worst value) or "finished" (finished
    runs only); every table names its view.

    Raises ``NoRecordsError`` when there is nothing to report and
    ``ValueError`` for an unknown format. Unreadable records are skipped with
    a ``RecordWarning``.
    """
    formats = parse_formats(formats)
    records = load_records(results_dir)
    palette = variant_palette(records.runs["variant"], records.runs["benchmark"])  # before filtering
    chosen = select(records, benchmarks, variants, metrics)
    out = Path(results_dir if out_dir is None else out_dir)
    tables = build_tables(chosen, view)
    written = []
    figures = {}
    for table in tables:
        figures[table.benchmark] = _write_figures(chosen, table, palette, out)
        written += [out / rel for rel, _ in figures[table.benchmark]]
        if "csv" in formats:
            path = out / "tables" / f"{slug(table.benchmark)}.csv"
            written.append(_write(path, _csv_bytes(csv_frame(table))))
        if "latex" in formats:
            path = out / "tables" / f"{slug(table.benchmark)}.tex"
            written.append(_write(path, benchmark_latex(table).encode()))
    if "csv" in formats:
        written.append(_write(out / "tables" / "summary.csv", _csv_bytes(summary_frame(tables))))
    from . import reproduction

    repro_text, repro_figures = reproduction.write(chosen, results_dir, out, _write, figure_bytes)
    written += repro_figures
    if "markdown" in formats:
        text = readme(tables, figures, len(chosen.runs), chosen.skipped,
                      _selection_text(benchmarks, variants, metrics, view),
                      machines=sorted(set(chosen.runs["machine"]) - {""}),
                      missing=missing_runs(chosen, benchmarks))
        text = text.rstrip("\n") + "\n\n" + settings_markdown(chosen)
        text += ("\n" + repro_text) if repro_text else ""  # the Reproduction section (issue 11)
        written.append(_write(out / "README.md", text.encode()))
    from ganbench.sweep.report import write_sweep_report  # lazy: it imports report modules

    written += write_sweep_report(results_dir, out_dir)  # results/sweeps/<benchmark>/, when swept
    return sorted(written)
