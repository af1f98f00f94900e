"""``ganbench report``: regenerate tables and figures from stored run records."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from ganbench.report.formats import FORMATS, parse_formats


def _split(values) -> tuple[str, ...]:
    """Repeatable options also take comma lists: ``--variant a,b --variant c``."""
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


@click.command("report")
@click.argument("results_dir", default="results",
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--benchmark", "benchmarks", multiple=True, metavar="NAME",
              help="Only this benchmark (repeatable, or a comma list).")
@click.option("--variant", "variants", multiple=True, metavar="NAME",
              help="Only this variant (repeatable, or a comma list).")
@click.option("--metric", "metrics", multiple=True, metavar="KEY",
              help="Only this metric, e.g. 'modes', 'fid' (every extractor) or "
                   "'fid/fmnist-cnn' (repeatable, or a comma list).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Write here instead of RESULTS_DIR.")
@click.option("--format", "formats", multiple=True, default=("markdown", "csv"),
              show_default=True, metavar="|".join(FORMATS),
              help="Table formats (repeatable, or a comma list). Figures are always drawn.")
@click.option("--finished-only", is_flag=True,
              help="Aggregate finished runs only (default: every diverged run counts at the "
                   "metric's worst value). Every table names its view.")
def report_command(results_dir, benchmarks, variants, metrics, out_dir, formats, finished_only):
    """Write README.md, tables/ and figures/ from RESULTS_DIR/runs/**/record.json.

    Never trains or scores; the same records give byte-identical output.
    """
    from ganbench.report import RecordWarning, write_report

    try:
        formats = parse_formats(_split(formats))
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="'--format'") from None
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RecordWarning)
            # NoRecordsError (empty or unmatched results) is a GanbenchError: the
            # ganbench group prints it as one "error: ..." line, exit status 2.
            written = write_report(results_dir, out_dir, _split(benchmarks) or None,
                                   _split(variants) or None, _split(metrics) or None,
                                   formats, view="finished" if finished_only else "all")
    finally:
        # Replayed after the block: inside it showwarning appends to ``caught``,
        # so replaying there looped forever on the first foreign warning.
        for w in caught:
            if issubclass(w.category, RecordWarning):
                click.echo(f"warning: {w.message}", err=True)
            else:   # not ours to reword: pass it on unchanged
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    out = results_dir if out_dir is None else out_dir
    click.echo(f"wrote {len(written)} files under {out}/")
