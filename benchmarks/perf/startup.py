"""Start-up time of the command line: ``ganbench --help`` and ``ganbench list``.

What it measures: for each command, the wall time and the CPU time (user + sys,
of the child process) of a fresh ``python -m ganbench ...`` from start to exit,
the mean and the minimum over ``--repeats`` runs (after one untimed run that
warms the file cache and writes the bytecode). It also prints which heavy
packages ``import ganbench.cli`` loads (none is the goal).

The development machines are shared: wall time includes waiting for a core, so
the CPU time is the steadier figure under load, and the minimum the fairer wall
figure. ``--root`` times another checkout (e.g. the main branch) for a before /
after comparison with the same interpreter.

Target: ``ganbench --help`` under 1 s wall on an idle machine.
Runtime: a few seconds per run; about 20 s with the defaults.

    python benchmarks/perf/startup.py [--repeats 5] [--root PATH]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (("--help",), ("list",))
HEAVY = ("torch", "pandas", "matplotlib", "seaborn", "scipy", "sklearn", "torch_fidelity")


def timed(args: tuple[str, ...], root: Path) -> tuple[float, float]:
    """(wall seconds, child CPU seconds) of one ``python -m ganbench ARGS`` run in ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ganbench", *args], cwd=root, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_imports(root: Path) -> list[str]:
    """The heavy packages that ``import ganbench.cli`` loads in a fresh interpreter."""
    code = f"import sys, ganbench.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to time (default: this one)")
    args = parser.parse_args()
    root = args.root.resolve()
    print(f"{root}: python {sys.version.split()[0]}, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"import ganbench.cli loads: {', '.join(heavy_imports(root)) or 'none of ' + ', '.join(HEAVY)}")
    print(f"{'command':<18} {'wall mean s':>11} {'wall min s':>10} {'CPU mean s':>10}")
    for command in COMMANDS:
        timed(command, root)  # untimed: file cache and bytecode
        runs = [timed(command, root) for _ in range(args.repeats)]
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{'ganbench ' + ' '.join(command):<18} {sum(walls) / len(walls):>11.2f} {min(walls):>10.2f} "
              f"{sum(cpus) / len(cpus):>10.2f}")


if __name__ == "__main__":
    main()
