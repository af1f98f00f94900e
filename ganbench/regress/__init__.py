"""Stability regression for CI: rerun the fixed-seed stability suite and compare
it with the committed baseline (:mod:`.check`), and the baseline file itself
(:mod:`.baseline`)."""
