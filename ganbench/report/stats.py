"""Statistics over seeds: bootstrap intervals, probability of improvement, exact tests.

Seeds are few (3-10), so nothing here assumes normality (Agarwal et al. 2021,
"Deep RL at the Edge of the Statistical Precipice", the ``rliable`` package):

- the interval of a mean is a **percentile bootstrap** over seeds (scipy's
  ``stats.bootstrap``, fixed seed, so the report is byte-identical). Every
  resample mean lies between the smallest and largest seed, so it never leaves
  the metric's range (a t-interval on 0, 0, 1 modes reaches below 0); it is
  clipped to the declared range as well, in case a metric ever leaves it;
- each variant is compared with the benchmark's declared **baseline**, never
  with a best chosen after the fact, by the probability of improvement
  P(X > Y) + P(X = Y) / 2 (direction-aware; rliable's definition), with a
  bootstrap interval;
- its p-value is a **permutation test** of the same statistic (every
  relabelling enumerated up to 10^6 of them, so 10 seeds against 10 is exact;
  random ones beyond, see :mod:`.permutation`), Holm-corrected over the
  variants compared in one column. A permutation p-value counts the observed
  labelling, so it is never 0: 3 seeds against 3 cannot go below 2/20 = 0.1,
  and after Holm over 6 variants not below 0.6 (``p_floor``: what the design
  allows at best, so a reader sees when seeds cannot separate two variants).

Degenerate cases are explicit: no value -> no estimate; one value -> the
value, no interval; all values equal -> the interval is that value (every
resample is the same). A metric that is undefined for a run (reverse KL with no
high-quality sample) is left out of that metric and counted.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ganbench.metrics.naming import higher_is_better, metric_range, sort_metrics

from .coverage import coverage_words
from .permutation import improvement_statistic, permutation_p, raw_floor

CONFIDENCE = 0.95
ALPHA = 0.05
N_RESAMPLES = 10_000   # bootstrap resamples / random permutations (rliable uses 2,000-50,000)
SEED = 0               # fixed: same records, same intervals, same bytes
INTERVAL_KIND = (f"percentile bootstrap over seeds ({N_RESAMPLES:,} resamples, seed {SEED}; "
                 f"nominal 95 %, measured coverage of a mean {coverage_words('mean')})")
SUMMARY_COLUMNS = ["variant", "metric", "n", "worst_filled", "undefined", "mean", "ci_low",
                   "ci_high", "baseline", "p_improve", "pi_low", "pi_high", "p_perm", "p_holm",
                   "significant", "n_baseline", "p_floor"]
COUNT_COLUMNS = ["variant", "seeds", "finished", "diverged", "flagged", "incomplete"]


def t_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, int]:
    """(mean, half-width, n) of a Student-t interval (kept for the sweep report's reruns)."""
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, n
    sd = float(x.std(ddof=1))
    return mean, float(stats.t.ppf((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)), n


@dataclass(frozen=True)
class Interval:
    """A point estimate and its interval; low/high NaN where none exists."""

    estimate: float
    low: float
    high: float
    n: int


def _mean(x, axis=-1):
    return np.mean(x, axis=axis)


def bootstrap_mean(values, bounds=(-math.inf, math.inf)) -> Interval:
    """Mean over seeds with its percentile-bootstrap interval, clipped to ``bounds``.

    n = 0: NaN; n = 1: the value, no interval; zero variance: [x, x]; a value
    that is +-inf (a diverged run at an unbounded worst) makes the mean
    infinite and the interval undefined.
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean()) if np.isfinite(x).all() else float(np.sum(x))  # sum: keeps the sign of inf
    if n == 1 or not np.isfinite(x).all():
        return Interval(mean, math.nan, math.nan, n)
    if np.all(x == x[0]):
        return Interval(mean, mean, mean, n)
    res = stats.bootstrap((x,), _mean, confidence_level=CONFIDENCE, n_resamples=N_RESAMPLES,
                          method="percentile", vectorized=True, rng=np.random.default_rng(SEED))
    low, high = res.confidence_interval
    return Interval(mean, float(np.clip(low, *bounds)), float(np.clip(high, *bounds)), n)


def bootstrap_median(values) -> Interval:
    """Median over seeds with a percentile-bootstrap interval; +inf values allowed.

    For costs to a target: a seed that never reached it costs +inf, so the
    median is finite while fewer than half never did. The interval's ends are
    order statistics of the bootstrap distribution (``inverted_cdf``: no
    interpolation, which would mix a finite cost with inf).
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    median = float(np.median(x))
    if n == 1:
        return Interval(median, math.nan, math.nan, 1)
    if np.all(x == x[0]):
        return Interval(median, median, median, n)
    with warnings.catch_warnings():   # scipy's standard error of inf costs: not used here
        warnings.simplefilter("ignore", RuntimeWarning)
        res = stats.bootstrap((x,), np.median, confidence_level=CONFIDENCE,
                              n_resamples=N_RESAMPLES, method="percentile", vectorized=True,
                              rng=np.random.default_rng(SEED))
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(res.bootstrap_distribution, [alpha, 1 - alpha], method="inverted_cdf")
    return Interval(median, float(low), float(high), n)


def prob_improvement(x, y, higher: bool = True) -> float:
    """P(X better than Y) + P(tie)/2 for independent draws X from ``x``, Y from ``y``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.size == 0 or y.size == 0:
        return math.nan
    return float(improvement_statistic(x, y) if higher else improvement_statistic(-x, -y))


def improvement_interval(x, y, higher: bool = True) -> Interval:
    """P(X better than Y) with a percentile-bootstrap interval (each group resampled alone)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    p = prob_improvement(x, y, higher)
    if x.size < 2 or y.size < 2:
        return Interval(p, math.nan, math.nan, min(x.size, y.size))
    if np.all(x == x[0]) and np.all(y == y[0]):
        return Interval(p, p, p, min(x.size, y.size))
    sx, sy = (x, y) if higher else (-x, -y)
    res = stats.bootstrap((sx, sy), improvement_statistic, confidence_level=CONFIDENCE,
                          n_resamples=N_RESAMPLES, method="percentile", vectorized=True,
                          rng=np.random.default_rng(SEED))
    low, high = res.confidence_interval
    return Interval(p, float(np.clip(low, 0, 1)), float(np.clip(high, 0, 1)), min(x.size, y.size))


def holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values; NaN entries stay NaN, uncounted."""
    valid = sorted((p, k) for k, p in pvalues.items() if not math.isnan(p))
    m, running, out = len(valid), 0.0, {k: math.nan for k in pvalues}
    for i, (p, key) in enumerate(valid):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out


def run_counts(runs: pd.DataFrame, variants=()) -> pd.DataFrame:
    """Per variant: records found, finished, diverged, flagged (not training) and incomplete runs.

    ``variants`` named without any record (not trained yet) get a row of zeros.
    """
    rows = []
    for variant in sorted(set(runs["variant"]) | set(variants)):
        outcome = runs.loc[runs["variant"] == variant, "outcome"]
        rows.append({"variant": variant, "seeds": len(outcome),
                     "finished": int((outcome == "finished").sum()),
                     "diverged": int((outcome == "diverged").sum()),
                     "flagged": int((outcome == "flagged").sum()),
                     "incomplete": int((outcome == "incomplete").sum())})
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)


def _metric_rows(metric: str, values: dict, filled: dict, baseline: str | None) -> list[dict]:
    """One row per variant of one metric column; ``filled`` counts worst-value entries."""
    higher = higher_is_better(metric)
    base = values.get(baseline) if baseline is not None else None
    base = base[~np.isnan(base)] if base is not None else None
    rows, raw = {}, {}
    for variant, x in values.items():
        defined = x[~np.isnan(x)]
        est = bootstrap_mean(defined, metric_range(metric))
        row = {"variant": variant, "metric": metric, "n": est.n,
               "worst_filled": filled.get(variant, 0), "undefined": int(np.isnan(x).sum()),
               "mean": est.estimate, "ci_low": est.low, "ci_high": est.high,
               "baseline": variant == baseline, "p_improve": math.nan, "pi_low": math.nan,
               "pi_high": math.nan, "p_perm": math.nan, "n_baseline": math.nan}
        if base is not None and variant != baseline and higher is not None:
            pi = improvement_interval(defined, base, higher)
            row.update(p_improve=pi.estimate, pi_low=pi.low, pi_high=pi.high)
            raw[variant] = row["p_perm"] = permutation_p(defined, base)
            row["n_baseline"] = base.size
        rows[variant] = row
    adjusted = holm(raw)
    # The smallest adjusted p each comparison can reach: Holm over every tested
    # variant's own raw floor (seed counts may differ within a column).
    floors = holm({v: raw_floor(rows[v]["n"], base.size) for v, p in raw.items() if not math.isnan(p)})
    for variant, row in rows.items():
        p = adjusted.get(variant, math.nan)
        row.update(p_holm=p, significant=bool(p < ALPHA), p_floor=floors.get(variant, math.nan))
    return [rows[v] for v in sorted(rows)]


def summarize(finals: pd.DataFrame, variants, baseline: str | None = None) -> pd.DataFrame:
    """Mean, bootstrap interval and comparison with ``baseline``, per variant x metric.

    ``finals`` holds one value per run and metric (NaN: undefined for that
    run) and, optionally, a boolean ``filled`` column marking diverged runs
    entered at the metric's worst value; ``variants`` lists every variant, so
    one without values still gets rows (n = 0).
    """
    rows = []
    if "filled" not in finals:
        finals = finals.assign(filled=False)
    for metric in sort_metrics(finals["metric"]):
        sub = finals[finals["metric"] == metric]
        values = {v: sub.loc[sub["variant"] == v, "value"].to_numpy(float) for v in variants}
        filled = {v: int((sub["filled"] & sub["value"].notna() & (sub["variant"] == v)).sum())
                  for v in variants}
        rows += _metric_rows(metric, values, filled, baseline)
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
