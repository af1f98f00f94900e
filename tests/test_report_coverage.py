"""Each interval method's real coverage at 3, 5 and 10 seeds, re-measured by
simulation on a normal and a skewed (exponential) distribution, must match the
table the report's labels are built from (``coverage.COVERAGE``)."""

from __future__ import annotations

import numpy as np
import pytest

from ganbench.report.coverage import COVERAGE, interval_label, is_range, kinds_note, simulate
from ganbench.report.stats import bootstrap_mean, bootstrap_median
from ganbench.report.tables import format_interval

TOL = 0.035   # Monte Carlo: 1,500 replications (sd ~0.012) and 400-1,000 resamples per interval


@pytest.mark.parametrize("method", sorted(COVERAGE))
@pytest.mark.parametrize("n", [3, 5, 10])
def test_measured_coverage_matches_the_table_the_labels_use(method, n):
    low, high = COVERAGE[method][n]
    b = 1000 if n == 3 else 400   # at 3 seeds the range needs >= 2.5 % all-minimum resamples
    got = [simulate(method, n, dist, reps=1500, b=b, seed=7) for dist in ("normal", "exponential")]
    assert min(got) == pytest.approx(low, abs=TOL), got
    assert max(got) == pytest.approx(high, abs=TOL), got
    assert high < 0.95 + TOL   # none of them is the nominal 95 % at these seed counts


def test_three_seed_percentile_bootstrap_is_the_range_and_is_labelled_so():
    x = [877.0, 940.0, 1224.0]
    for est in (bootstrap_mean(x), bootstrap_median(x)):
        assert (est.low, est.high) == (877.0, 1224.0)
    assert format_interval(1014.0, 877.0, 1224.0, 3) == "1014 (877–1224)"
    assert format_interval(16.0, 13.5, 18.2, 10) == "16.0 [13.5, 18.2]"
    assert interval_label("mean", 3).startswith("range of 3 seeds")
    assert "95 %" not in interval_label("mean", 3)
    assert "~85–90 % coverage" in interval_label("mean", 10)
    assert not is_range(3, "improvement")


def test_a_table_with_3_and_10_seeds_names_two_kinds():
    note = kinds_note("mean", [3, 10, 10])
    assert "(a–b): the range of the seeds" in note and "[a, b] at 10 seeds" in note


def test_range_of_three_covers_a_symmetric_mean_three_quarters_of_the_time():
    # known answer: P(min < mu < max) = 1 - 2 (1/2)^3 = 0.75 for any symmetric law
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200_000, 3))
    assert np.mean((x.min(1) < 0) & (0 < x.max(1))) == pytest.approx(0.75, abs=0.005)
    assert COVERAGE["mean"][3][1] == pytest.approx(0.75, abs=0.01)
