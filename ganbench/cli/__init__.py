"""The ``ganbench`` command line: thin wiring of library functions.

Each command group lives in its own module; errors a user can fix
(:class:`~ganbench.core.errors.GanbenchError`) print as one clear message, never a traceback.
"""

from __future__ import annotations

import sys
import warnings

import click

from ganbench import __version__
from ganbench.core.errors import GanbenchError, GanbenchWarning


class GanbenchGroup(click.Group):
    """Turns GanbenchError into ``error: ...`` and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except GanbenchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)


@click.group(cls=GanbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ganbench")
@click.option("--plugin", "plugins", multiple=True, metavar="MODULE",
              help="Import MODULE for its variants/datasets (repeatable; adds to $GANBENCH_PLUGINS).")
def main(plugins: tuple[str, ...]) -> None:
    """ganbench: GAN objectives trained under equal compute budgets and scored
    with FID/IS/KID, precision/recall, density/coverage and mode-collapse metrics.

    \b
    Typical use:
      ganbench list                 what can be trained
      ganbench run --all            train and score every benchmark
      ganbench report               rebuild tables and figures from results/
      ganbench compare A B          do two result sets (other seeds, machine) agree?
      ganbench regress              CI stability check against results/baseline
      ganbench --plugin mygan run   also train the variants module `mygan` registers
    """
    if plugins:
        from ganbench.core.plugins import request

        request(plugins)
    warnings.formatwarning = _format_warning


_plain_format = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """ganbench's own warnings as one line for the user; others as Python formats them."""
    if issubclass(category, GanbenchWarning):
        return f"warning: {message}\n"
    return _plain_format(message, category, filename, lineno, line)


def _register() -> None:
    from ganbench.cli.compare import compare_command
    from ganbench.cli.eval import eval_command
    from ganbench.cli.extractor import extractor_group
    from ganbench.cli.listing import list_command
    from ganbench.cli.regress import regress_command
    from ganbench.cli.report import report_command
    from ganbench.cli.run import run_command
    from ganbench.cli.sweep import sweep_command
    from ganbench.cli.train import train_command

    for command in (list_command, train_command, eval_command, run_command, report_command, extractor_group,
                    sweep_command, regress_command, compare_command):
        main.add_command(command)


_register()
