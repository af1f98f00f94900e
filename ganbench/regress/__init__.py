"""Stability regression for CI: rerun the fixed-seed stability suite and compare
it with the committed baseline (:mod:`.check`), and the baseline file itself
(:mod:`.baseline`)."""

from pathlib import Path

# Here rather than in .check, so ``ganbench regress --help`` shows them without
# importing the suite and metrics stack that .check needs.
SUITE_DIR = Path("benchmarks/stability")
BASELINE_DIR = Path("results/baseline")
