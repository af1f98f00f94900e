"""The ``ganbench`` command line: thin wiring of library functions.

Each command group lives in its own module, imported only when that command is
named (or ``--help`` lists them): ``ganbench report`` never imports training code,
and a suite's spawned workers, which import this module again, never import the
report stack. The command modules keep their heavy imports inside the command
function, so even ``--help`` loads none of torch, pandas or matplotlib
(tests/test_startup.py). Errors a user can fix
(:class:`~ganbench.core.errors.GanbenchError`) print as one clear message, never a traceback.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from ganbench import __version__
from ganbench.core.errors import GanbenchError, GanbenchWarning

#: Command name -> "module:attribute", in the order ``--help`` lists them.
COMMANDS = {
    "list": "ganbench.cli.listing:list_command",
    "train": "ganbench.cli.train:train_command",
    "eval": "ganbench.cli.eval:eval_command",
    "run": "ganbench.cli.run:run_command",
    "report": "ganbench.cli.report:report_command",
    "extractor": "ganbench.cli.extractor:extractor_group",
    "sweep": "ganbench.cli.sweep:sweep_command",
    "regress": "ganbench.cli.regress:regress_command",
    "compare": "ganbench.cli.compare:compare_command",
}


class GanbenchGroup(click.Group):
    """Imports each command's module on first use (click's "lazy group" pattern) and
    turns GanbenchError into ``error: ...`` and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS) + [name for name in super().list_commands(ctx) if name not in COMMANDS]

    def get_command(self, ctx: click.Context, name: str):
        if name in COMMANDS and name not in self.commands:
            module, _, attr = COMMANDS[name].partition(":")
            self.add_command(getattr(importlib.import_module(module), attr), name)
        return super().get_command(ctx, name)

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
