"""``ganbench compare``: do two result sets (another machine, other seeds) agree?"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("compare")
@click.argument("results_a", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("results_b", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--benchmark", "benchmarks", multiple=True, metavar="NAME",
              help="Only this benchmark (repeatable).")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the Markdown here.")
def compare_command(results_a: Path, results_b: Path, benchmarks, out_file) -> None:
    """Whether RESULTS_B draws the conclusions RESULTS_A draws (records only, no training).

    For the benchmarks both hold: each comparison with the baseline (better,
    worse, not separated) and each compute-to-target median (finite or not),
    held or changed, with the means beside them. Make B with `ganbench run
    ... --seeds 10-19 --out B`, or the same command on another machine.
    """
    from ganbench.report import load_records, select
    from ganbench.report.agreement import agreement_markdown, compare_targets, compare_verdicts
    from ganbench.report.tables import build_tables

    tables = []
    for root in (results_a, results_b):
        records = load_records(root)
        tables.append(build_tables(select(records, benchmarks or None)))
    text = agreement_markdown(compare_verdicts(*tables), compare_targets(*tables),
                              str(results_a), str(results_b))
    click.echo(text, nl=False)
    if out_file is not None:
        out_file.write_text(text)
