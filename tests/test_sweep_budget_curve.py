"""The expected-best-of-k estimator: hand-computed cases, brute force, the bootstrap band."""

import itertools
import math

import numpy as np
import pytest

from ganbench.sweep.budget_curve import bootstrap_band, expected_best_of_k, order_weights


def test_hand_computed_case():
    # Best of 1 is the mean; best of 2 of {1,2,3}: pairs (1,2),(1,3),(2,3) -> (2+3+3)/3; best of 3 is 3.
    assert expected_best_of_k([1, 2, 3]) == pytest.approx([2.0, (2 + 3 + 3) / 3, 3.0])
    # Lower is better: the expected minimum; (1,2),(1,3),(2,3) -> (1+1+2)/3.
    assert expected_best_of_k([3, 1, 2], higher_is_better=False) == pytest.approx([2.0, 4 / 3, 1.0])


def test_ties_and_order_do_not_matter():
    # Every pair of {8, 8, 0, 8} holds an 8.
    assert expected_best_of_k([8, 8, 0, 8]) == pytest.approx([6.0, 8.0, 8.0, 8.0])
    assert expected_best_of_k([5, 1, 4]) == pytest.approx(expected_best_of_k([1, 4, 5]))


@pytest.mark.parametrize("n", [1, 2, 5, 7])
def test_matches_brute_force_over_all_subsets(n):
    scores = np.random.default_rng(n).normal(size=n).round(2)
    for k in range(1, n + 1):
        brute = np.mean([max(c) for c in itertools.combinations(scores, k)])
        assert expected_best_of_k(scores)[k - 1] == pytest.approx(brute)
        brute_min = np.mean([min(c) for c in itertools.combinations(scores, k)])
        assert expected_best_of_k(scores, higher_is_better=False)[k - 1] == pytest.approx(brute_min)


def test_weights_are_probabilities():
    w = order_weights(6)
    assert w.sum(axis=1) == pytest.approx(np.ones(6))
    assert np.all(np.tril(w, -1) == 0)  # the best of k is at least the k-th smallest


def test_failed_trials_without_a_floor_make_small_k_undefined():
    # Two diverged trials of an unbounded higher-is-better metric: any draw of
    # 1 or 2 trials may be all-failed, so the expectation is -inf there.
    curve = expected_best_of_k([-math.inf, 3.0, -math.inf, 1.0])
    assert curve[:2].tolist() == [-math.inf, -math.inf]
    # k = 3: the best is 3 unless the draw is {-inf, -inf, 1} (1 of 4 draws).
    assert curve[2] == pytest.approx((3 * 3 + 1) / 4)
    assert curve[3] == 3.0
    # FID-like: +inf failures for a lower-is-better metric.
    assert expected_best_of_k([math.inf, 10.0], higher_is_better=False).tolist() == [math.inf, 10.0]


def test_rejects_nan_and_empty():
    with pytest.raises(ValueError):
        expected_best_of_k([1.0, math.nan])
    with pytest.raises(ValueError):
        expected_best_of_k([])


def test_bootstrap_band_is_seeded_and_brackets_the_curve():
    scores = [0, 2, 5, 5, 6, 8, 8, 3]
    low, high = bootstrap_band(scores)
    again = bootstrap_band(scores)
    assert np.array_equal(low, again[0]) and np.array_equal(high, again[1])
    curve = expected_best_of_k(scores)
    assert np.all(low <= curve + 1e-12) and np.all(curve <= high + 1e-12)
    assert np.all(np.diff(curve) >= -1e-12)  # more trials never lower the expected best
    low_min, high_min = bootstrap_band(scores, higher_is_better=False)
    assert np.all(low_min <= expected_best_of_k(scores, False) + 1e-12)
    assert np.all(expected_best_of_k(scores, False) <= high_min + 1e-12)
