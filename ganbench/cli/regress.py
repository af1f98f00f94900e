"""``ganbench regress``: CI regression on stability against the committed baseline."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from ganbench.regress import BASELINE_DIR, SUITE_DIR


@click.command("regress")
@click.option("--baseline", "baseline_dir", type=click.Path(file_okay=False, path_type=Path), default=BASELINE_DIR,
              show_default=True, help="Committed baseline: one JSON per benchmark/variant.")
@click.option("--suite", "suite_dir", type=click.Path(file_okay=False, path_type=Path), default=SUITE_DIR,
              show_default=True, help="Stability suite: benchmark TOML files with a 'smoke' profile.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write JUnit XML here (one testcase per check) for CI test reports.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the baseline from this run (needs --reason).")
@click.option("--reason", default=None, help="Why the baseline changes; recorded in it with date, versions, machine.")
@click.option("--workers", type=click.IntRange(min=0), default=None,
              help="Parallel runs (default: one per core); 0 runs everything in this process.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the runs here (default: a temp dir, deleted). Finished runs already in OUT are reused.")
@click.option("--benchmark", "benchmarks", multiple=True, help="Only this suite benchmark (repeatable).")
@click.option("--variant", "variants", multiple=True, help="Only this variant (repeatable).")
def regress_command(baseline_dir, suite_dir, junit, update_baseline, reason, workers, out, benchmarks,
                    variants) -> None:
    """Rerun the fixed-seed stability suite and compare it with the baseline.

    Exits 1 when a variant got less stable or worse than the baseline: more
    seeds diverged, or a metric's mean over seeds got worse by more than
    max(3 x baseline std over seeds, an absolute floor, 10 % of the baseline).
    On the machine that made the baseline an unchanged tree is bit-identical.
    """
    from tqdm import tqdm

    from ganbench.regress.check import regress
    from ganbench.regress.render import junit_xml, render_table

    if update_baseline and not (reason or "").strip():
        raise click.UsageError("--update-baseline needs --reason TEXT saying why the baseline changes")
    if reason is not None and not update_baseline:
        raise click.UsageError("--reason only goes with --update-baseline")
    if junit is not None and junit.is_dir():
        raise click.BadParameter(f"{junit} is a directory; give a file name", param_hint="'--junit'")
    command = _command_line(baseline_dir, suite_dir, workers, benchmarks, variants, reason)
    with tqdm(unit="run", desc="stability suite", dynamic_ncols=True, file=sys.stderr) as bar:
        def tick(outcome):
            bar.set_postfix_str(f"{outcome.run_id}: {outcome.status}", refresh=False)
            bar.update()

        result = regress(suite_dir, baseline_dir, out, workers=workers, benchmarks=tuple(benchmarks),
                         variants=tuple(variants), update_reason=reason if update_baseline else None,
                         command=command, on_outcome=tick)
    click.echo(render_table(result))
    if junit is not None:
        from ganbench.core.io import atomic_write_bytes

        atomic_write_bytes(junit, junit_xml(result))
        click.echo(f"junit: {junit}")
    if update_baseline:
        click.echo(f"baseline rewritten under {baseline_dir}/ (reason: {reason})")
        sys.exit(0)
    sys.exit(0 if result.passed else 1)


def _command_line(baseline_dir, suite_dir, workers, benchmarks, variants, reason) -> str:
    """The command that remakes this baseline, recorded in it (tests and CI call the
    command in other ways than a shell, so it is rebuilt from the options)."""
    words = ["ganbench", "regress", "--update-baseline", "--reason", reason or ""]
    words += ["--baseline", str(baseline_dir)] * (baseline_dir != BASELINE_DIR)
    words += ["--suite", str(suite_dir)] * (suite_dir != SUITE_DIR)
    words += ["--workers", str(workers)] * (workers is not None)
    words += [w for b in benchmarks for w in ("--benchmark", b)] + [w for v in variants for w in ("--variant", v)]
    return shlex.join(words)
