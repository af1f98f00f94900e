"""Fast start: each command imports only what it uses.

Every check runs in a fresh interpreter (a subprocess) and reads ``sys.modules``:
in this test process pytest and other tests have imported everything already.
Timings are not asserted here (the machines are shared); benchmarks/perf/startup.py
prints them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT_STACK = ("pandas", "matplotlib", "seaborn")
HEAVY = ("torch",) + REPORT_STACK


def loaded_after(code: str, watch=HEAVY, cwd: Path = ROOT) -> list[str]:
    """Run ``code`` in a fresh interpreter; which of ``watch`` it left in sys.modules."""
    probe = f"{code}\nimport sys, json\nprint(json.dumps([m for m in {tuple(watch)!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_and_its_help_load_no_heavy_package():
    # A spawned suite worker imports ganbench.cli again (the console script is its
    # __main__), so this is also what every worker pays before its first run.
    assert loaded_after("import ganbench.cli") == []
    help_code = ("from click.testing import CliRunner\nfrom ganbench.cli import main\n"
                 "r = CliRunner().invoke(main, ['--help'])\nassert r.exit_code == 0 and 'report' in r.output, r.output")
    assert loaded_after(help_code) == []


def test_every_command_help_loads_no_heavy_package():
    from ganbench.cli import COMMANDS

    code = ("from click.testing import CliRunner\nfrom ganbench.cli import main\n"
            f"for name in {list(COMMANDS)!r}:\n"
            "    r = CliRunner().invoke(main, [name, '--help'])\n"
            "    assert r.exit_code == 0 and 'Usage' in r.output, (name, r.output)")
    assert loaded_after(code) == []


def test_the_lazy_group_lists_and_resolves_every_command():
    from click.testing import CliRunner

    from ganbench.cli import COMMANDS, main

    output = CliRunner().invoke(main, ["--help"]).output
    for name in COMMANDS:
        assert f"  {name} " in output
        assert main.get_command(None, name).name == name


def test_reading_records_for_a_report_needs_no_torch():
    code = "from pathlib import Path\nfrom ganbench.report import load_records\nload_records(Path('results'))"
    assert loaded_after(code, ("torch",)) == []


def test_a_training_worker_does_not_load_the_report_stack(tmp_path):
    # What a suite worker runs: the spawn bootstrap imports ganbench.cli, then
    # suite.tasks.execute trains and scores one (smoke-size) run in the process.
    # pandas is not watched: scikit-learn (NDB's k-means, the k-NN radii) imports
    # it whenever it is installed; the figures (matplotlib, seaborn) and
    # ganbench.report are what a worker must not pay for.
    code = ("import ganbench.cli\nfrom pathlib import Path\n"
            "from ganbench.config.benchmarks import discover\n"
            "from ganbench.suite.executors import _execute_on_worker_device\n"
            "from ganbench.suite.tasks import plan\n"
            f"(bench,) = discover(Path({str(ROOT / 'benchmarks')!r}), ('ring8',))\n"
            f"task = plan([bench], 'smoke', Path({str(tmp_path)!r}), variants=('vanilla',))[0]\n"
            "import dataclasses\n"
            "task = dataclasses.replace(task, config=dataclasses.replace(task.config, "
            "budget=dataclasses.replace(task.config.budget, max_g_steps=20)))\n"
            "(outcome,) = _execute_on_worker_device(task)\n"
            "assert outcome.status == 'finished', outcome")
    assert loaded_after(code, ("matplotlib", "seaborn", "ganbench.report", "torch")) == ["torch"]  # torch: it trained
