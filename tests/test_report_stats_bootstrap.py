"""Known answers for the report's statistics: bootstrap intervals, probability of
improvement, permutation p-values, Holm, worst-value divergence, undefined KL,
compute-to-target."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ganbench.report.load import load_records
from ganbench.report.permutation import (
    N_RANDOM,
    improvement_statistic,
    permutation_method,
    permutation_p,
    raw_floor,
)
from ganbench.report.stats import (
    N_RESAMPLES,
    SEED,
    bootstrap_mean,
    bootstrap_median,
    holm,
    improvement_interval,
    prob_improvement,
    summarize,
)
from ganbench.report.tables import build_tables
from tests.test_report_records import make_record, write_record


def test_bootstrap_mean_matches_scipy_percentile_bootstrap():
    x = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    ref = stats.bootstrap((x,), np.mean, confidence_level=0.95, n_resamples=N_RESAMPLES,
                          method="percentile", rng=np.random.default_rng(SEED))
    est = bootstrap_mean(x)
    assert est.estimate == pytest.approx(4.0) and est.n == 5
    assert (est.low, est.high) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)
    # a percentile interval of a mean stays inside [min, max] of the seeds
    assert 1.0 <= est.low < 4.0 < est.high <= 8.0


def test_bootstrap_interval_stays_in_range_where_a_t_interval_does_not():
    modes = [0.0, 0.0, 1.0]      # the committed ring8 wgan-gp: t-interval 0.3 +- 1.4
    est = bootstrap_mean(modes, (0.0, math.inf))
    assert est.low >= 0.0 and est.high <= 1.0
    half = stats.t.ppf(0.975, 2) * np.std(modes, ddof=1) / math.sqrt(3)
    assert np.mean(modes) - half < 0          # what the old report showed


def test_degenerate_cases_are_explicit():
    assert math.isnan(bootstrap_mean([]).estimate) and bootstrap_mean([]).n == 0
    one = bootstrap_mean([7.0])
    assert one.estimate == 7.0 and math.isnan(one.low) and math.isnan(one.high)
    flat = bootstrap_mean([8.0, 8.0, 8.0])
    assert (flat.estimate, flat.low, flat.high) == (8.0, 8.0, 8.0)
    inf = bootstrap_mean([300.0, math.inf])
    assert inf.estimate == math.inf and math.isnan(inf.low)


def test_probability_of_improvement_by_hand():
    # pairs (x, y): 3>1, 3>2, 3=3 ; 1<... : x=[3,1], y=[1,2,3]
    # x=3: beats 1, 2, ties 3 -> 2.5 ; x=1: ties 1, loses 2, 3 -> 0.5 ; total 3/6
    assert prob_improvement([3, 1], [1, 2, 3]) == pytest.approx(3 / 6)
    assert prob_improvement([8, 8, 8], [0, 0, 0]) == 1.0
    assert prob_improvement([8, 8, 8], [8, 8, 8]) == 0.5
    # lower is better (FID): 10 vs 20 is an improvement
    assert prob_improvement([10.0], [20.0], higher=False) == 1.0
    assert prob_improvement([10.0, 30.0], [20.0], higher=False) == 0.5


def test_improvement_interval_matches_scipy_two_sample_bootstrap():
    x, y = np.array([1.0, 5.0, 3.0, 4.0]), np.array([2.0, 2.5, 0.5])

    def stat(a, b, axis=-1):
        return ((a[..., :, None] > b[..., None, :]).mean((-2, -1))
                + 0.5 * (a[..., :, None] == b[..., None, :]).mean((-2, -1)))

    ref = stats.bootstrap((x, y), stat, n_resamples=N_RESAMPLES, method="percentile",
                          rng=np.random.default_rng(SEED))
    pi = improvement_interval(x, y)
    # wins over y = 2, 2.5, 0.5: x=1 beats one, x=5, 3 and 4 beat all three: 10 of 12 pairs
    assert pi.estimate == pytest.approx(10 / 12)
    assert (pi.low, pi.high) == pytest.approx(tuple(ref.confidence_interval), rel=1e-12)


def test_zero_variance_never_gives_p_zero():
    # 0,0,0 against 8,8,8: 20 relabellings, two as extreme (either direction): p = 0.1
    assert permutation_p([0, 0, 0], [8, 8, 8]) == pytest.approx(2 / 20)
    assert permutation_p([8, 8, 8], [8, 8, 8]) == 1.0
    assert math.isnan(permutation_p([1.0], [2.0, 3.0]))   # one seed: no test, no p
    assert math.isnan(permutation_p([], [1.0]))
    flat = improvement_interval([0, 0, 0], [8, 8, 8])
    assert (flat.estimate, flat.low, flat.high) == (0.0, 0.0, 0.0)


def test_permutation_p_against_exact_mann_whitney_without_ties():
    x, y = [1.2, 3.4, 5.6, 7.1], [0.3, 0.9, 2.2, 4.0, 0.1]
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue
    assert permutation_p(x, y) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("n, floor, method", [
    (3, 2 / 20, "exact over all 20 relabellings, so p ≥ 2/20 = 0.1"),           # C(6, 3)
    (5, 2 / 252, "exact over all 252 relabellings, so p ≥ 2/252 = 0.0079"),     # C(10, 5)
    (10, 2 / 184_756, "exact over all 184,756 relabellings, so p ≥ 2/184,756 = 1.1e-05"),
    (12, 2 / (N_RANDOM + 1),                                                     # C(24, 12) > 1e6
     "10,000 random relabellings (seed 0) of the 2,704,156, so p ≥ 2/10,001 = 0.0002"),
])
def test_permutation_method_states_the_floor_that_complete_separation_reaches(n, floor, method):
    # n seeds all below n others: the most extreme labelling, so p is the method's floor
    low, high = np.arange(n, dtype=float), np.arange(n, dtype=float) + 100
    assert permutation_p(low, high) == pytest.approx(floor)
    assert method in permutation_method(n, n)


def test_holm_matches_statsmodels():
    from statsmodels.stats import multitest  # the test extra installs it
    raw = {"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.2, "e": 0.011}
    ref = multitest.multipletests(list(raw.values()), method="holm")[1]
    ours = holm(raw)
    assert [ours[k] for k in raw] == pytest.approx(list(ref), rel=1e-12)
    assert math.isnan(holm({"x": math.nan, "y": 0.5})["x"])


def _ring(root, variant, seed, modes, hq=90.0, rkl=0.1, status="finished", snaps=None):
    final = {"modes": modes, "high_quality": hq, "reverse_kl": rkl}
    rec = make_record("ring8", variant, seed, final, status=status, fractions=(1.0,))
    if snaps is not None:
        rec["snapshots"] = snaps
        rec["metrics"] = snaps[-1]["metrics"]
    write_record(root, rec)


def test_diverged_run_counts_at_the_worst_value(tmp_path):
    for seed, modes in enumerate([8, 8, 8]):
        _ring(tmp_path, "vanilla", seed, modes)
    _ring(tmp_path, "lsgan", 0, 8)
    _ring(tmp_path, "lsgan", 1, 8)
    _ring(tmp_path, "lsgan", 2, math.nan, status="diverged")
    records = load_records(tmp_path)
    table = build_tables(records)[0]
    row = table.summary.set_index(["variant", "metric"]).loc[("lsgan", "modes")]
    assert row["n"] == 3 and row["worst_filled"] == 1
    assert row["mean"] == pytest.approx(16 / 3)               # 8, 8 and the worst, 0
    assert table.summary.set_index(["variant", "metric"]).loc[("lsgan", "high_quality"), "mean"] \
        == pytest.approx(60.0)
    # reverse KL has no worst value for a run without samples: undefined, counted
    rkl = table.summary.set_index(["variant", "metric"]).loc[("lsgan", "reverse_kl")]
    assert rkl["n"] == 2 and rkl["worst_filled"] == 0
    finished = build_tables(records, view="finished")[0]
    assert finished.summary.set_index(["variant", "metric"]).loc[("lsgan", "modes"), "mean"] == 8.0


def test_no_high_quality_sample_leaves_reverse_kl_undefined(tmp_path):
    _ring(tmp_path, "vanilla", 0, 8, rkl=0.2)
    _ring(tmp_path, "vanilla", 1, 0, hq=0.0, rkl=None)            # stored as null
    _ring(tmp_path, "vanilla", 2, 0, hq=0.0, rkl=math.log(8))     # an older record: ln M
    records = load_records(tmp_path)
    assert set(records.runs["outcome"]) == {"finished"}           # undefined is not diverged
    row = build_tables(records)[0].summary.set_index(["variant", "metric"]).loc[
        ("vanilla", "reverse_kl")]
    assert row["undefined"] == 2 and row["n"] == 1 and row["mean"] == pytest.approx(0.2)


def test_comparison_caption_names_the_permutation_method_of_the_seeds_tested(tmp_path):
    from ganbench.report.render import comparison_caption

    for seed in range(3):
        _ring(tmp_path, "vanilla", seed, 8)
        _ring(tmp_path, "lsgan", seed, 7 + seed % 2)
    _ring(tmp_path, "wgan", 0, 6)                     # one seed: no test, not in the caption
    text = comparison_caption(build_tables(load_records(tmp_path))[0])
    assert "3 seeds against 3: exact over all 20 relabellings, so p ≥ 2/20 = 0.1" in text
    assert "random" not in text and "1 seeds" not in text
    for seed in range(3, 10):                         # 10 against 10: 184,756, all enumerated
        _ring(tmp_path, "vanilla", seed, 8)
        _ring(tmp_path, "lsgan", seed, 7 + seed % 2)
    text = comparison_caption(build_tables(load_records(tmp_path))[0])
    assert "10 seeds against 10: exact over all 184,756 relabellings" in text
    assert "random" not in text


def _snap(fraction, modes, hq):
    return {"fraction": fraction, "flops": fraction * 1e12, "seconds": fraction * 100,
            "g_step": int(fraction * 100), "metrics": {"modes": modes, "high_quality": hq,
                                                       "reverse_kl": 0.1}}


def test_compute_to_target_with_a_seed_that_never_reaches_it(tmp_path):
    from ganbench.config.targets import parse_target
    from ganbench.report.target import cost_to_target, run_costs

    target = parse_target({"modes": {"at_least": 8}, "high_quality": {"at_least": 90}})
    runs = {0: [(0.25, 8, 80), (0.5, 8, 91), (0.75, 8, 95), (1.0, 8, 96)],   # at 0.5
            1: [(0.25, 8, 92), (0.5, 8, 93), (0.75, 8, 95), (1.0, 8, 96)],   # at 0.25
            2: [(0.25, 7, 95), (0.5, 8, 85), (0.75, 6, 99), (1.0, 7, 99)],   # never
            3: [(0.25, 8, 80), (0.5, 7, 91), (0.75, 8, 90), (1.0, 8, 99)]}   # at 0.75
    for seed, snaps in runs.items():
        _ring(tmp_path, "vanilla", seed, 8, snaps=[_snap(*s) for s in snaps])
    records = load_records(tmp_path)
    costs = run_costs(records, "ring8", target, {}).set_index("seed")
    assert costs.loc[0, "flops"] == 0.5e12 and costs.loc[1, "seconds"] == 25.0
    assert costs.loc[2, "flops"] == math.inf and costs.loc[3, "flops"] == 0.75e12
    row = cost_to_target(records, "ring8", target, {}, ["vanilla"]).iloc[0]
    assert (row["runs"], row["reached"], row["never"]) == (4, 3, 1)
    assert row["flops"] == pytest.approx(0.625e12)   # median of 0.25, 0.5, 0.75, inf
    assert row["flops_high"] == math.inf             # resamples with >= 2 never are possible


def test_real_multiple_target_and_median_interval():
    from ganbench.config.targets import parse_target
    (cond,) = parse_target({"fid/x": {"at_most_real_multiple": 5}})
    assert cond.holds(4.9, {"fid/x": 1.0}) and not cond.holds(5.1, {"fid/x": 1.0})
    assert not cond.holds(1.0, {})            # no real-data record: cannot be judged reached
    est = bootstrap_median([1.0, 2.0, math.inf])
    assert est.estimate == 2.0 and est.low == 1.0 and est.high == math.inf


def test_exact_permutation_p_with_ties_matches_scipy_full_enumeration():
    rng = np.random.default_rng(5)
    for _ in range(5):   # integer values: many ties, midranks
        x, y = rng.integers(0, 4, 6).astype(float), rng.integers(0, 4, 7).astype(float)
        ref = stats.permutation_test((x, y), improvement_statistic, permutation_type="independent",
                                     alternative="two-sided", vectorized=True,
                                     n_resamples=np.inf).pvalue
        assert permutation_p(x, y) == pytest.approx(ref, rel=1e-12)


def floors_of(groups: dict, baseline: str = "base") -> dict:
    """p_floor per variant from summarize over constant-valued groups of the given sizes."""
    rows = [{"variant": v, "seed": i, "metric": "modes", "value": float(k)}
            for k, (v, n) in enumerate(groups.items()) for i in range(n)]
    frame = summarize(pd.DataFrame(rows), list(groups), baseline)
    return frame.set_index("variant")["p_floor"].to_dict()


def test_holm_floor_is_what_the_design_allows():
    assert raw_floor(3, 3) == pytest.approx(0.1) and math.isnan(raw_floor(1, 10))
    six = floors_of({"base": 3, **{f"v{i}": 3 for i in range(6)}})
    assert all(f == pytest.approx(0.6) for v, f in six.items() if v != "base")  # 6 x 2/20
    ten = floors_of({"base": 10, **{f"v{i}": 10 for i in range(6)}})
    assert ten["v0"] == pytest.approx(12 / 184_756)  # 6.5e-5, the exact value
    assert math.isnan(six["base"])


def test_holm_floor_with_unequal_seed_counts_is_holm_over_the_raw_floors():
    """Baseline 4 seeds, A 10, B 4: A's raw floor 2/C(14, 4) = 0.002, B's 2/C(8, 4) = 0.029;
    Holm gives A 2 x 0.002 and B max(0.004, 0.029): B can reach 0.029 < 0.05."""
    floors = floors_of({"base": 4, "a": 10, "b": 4})
    assert floors["a"] == pytest.approx(2 * 2 / 1001)
    assert floors["b"] == pytest.approx(2 / 70)


def test_held_target_charges_the_last_crossing_and_ends_count(tmp_path):
    from ganbench.config.targets import held_from, parse_target
    from ganbench.report.target import cost_to_target, run_costs

    target = parse_target({"modes": {"at_least": 8}, "high_quality": {"at_least": 90}})
    runs = {0: [(0.25, 8, 92), (0.5, 8, 14), (0.75, 8, 91), (1.0, 8, 93)],   # crosses, drops, recrosses
            1: [(0.25, 8, 92), (0.5, 8, 93), (0.75, 8, 95), (1.0, 8, 80)],   # ends below: never held
            2: [(0.25, 8, 80), (0.5, 8, 91), (0.75, 8, 95), (1.0, 8, 96)]}   # held from first reach
    for seed, snaps in runs.items():
        _ring(tmp_path, "vanilla", seed, 8, snaps=[_snap(*s) for s in snaps])
    records = load_records(tmp_path)
    costs = run_costs(records, "ring8", target, {}).set_index("seed")
    assert list(costs["flops"]) == [0.25e12, 0.25e12, 0.5e12]
    assert list(costs["held_flops"]) == [0.75e12, math.inf, 0.5e12]
    row = cost_to_target(records, "ring8", target, {}, ["vanilla"]).iloc[0]
    assert (row["reached"], row["ended"]) == (3, 2)
    assert row["held_flops"] == 0.75e12              # median of 0.5, 0.75, inf
    assert held_from([], target, {}) == (math.inf, math.inf)
