"""``ganbench sweep``: hyperparameter search under equal budgets (Lucic et al. 2018).

Public API:

- :class:`SweepPlan`, :func:`run_sweep`, :func:`rerun_best`: sample N
  configurations per variant from a benchmark's ``[search_space.<name>]``
  (Optuna ask/tell; random or TPE sampler; SQLite or any RDB storage) and run
  each as an ordinary run through the suite's executors, resumably.
- :func:`expected_best_of_k`, :func:`bootstrap_band`: the budget curve.
- :func:`write_sweep_report`: README/figure/CSV of every sweep under ``results/sweeps/``.

Importing this package does not import Optuna (the optional ``sweep`` extra);
only running a sweep does, so reports work without it.
"""

from ganbench.config.search_space import apply_params, load_spaces, space_for, variant_space

from .budget_curve import bootstrap_band, expected_best_of_k
from .report import write_sweep_report
from .runner import rerun_best, run_sweep
from .scoring import Goal, goal_for
from .study import SweepPlan, SweepSummary, trial_dir, trial_seed

__all__ = ["Goal", "SweepPlan", "SweepSummary", "apply_params", "bootstrap_band", "expected_best_of_k",
           "goal_for", "load_spaces", "rerun_best", "run_sweep", "space_for", "trial_dir", "trial_seed",
           "variant_space", "write_sweep_report"]
