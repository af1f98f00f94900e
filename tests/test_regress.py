"""`ganbench regress`: the tolerance rule, the baseline, JUnit XML, and proof that it
catches a deliberately broken variant while the unchanged code passes."""

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from ganbench.cli import GanbenchGroup
from ganbench.cli.regress import regress_command
from ganbench.config.benchmarks import discover
from ganbench.core.errors import GanbenchError
from ganbench.regress.baseline import read_baseline, write_baseline
from ganbench.regress.check import K, Result, compare, regress, suite_fingerprint, tolerance
from ganbench.regress.render import junit_xml, render_table
from ganbench.variants import VARIANTS
from ganbench.variants.lsgan import CODINGS, Lsgan

ROOT = Path(__file__).resolve().parents[1]
# lsgan covers all 8 ring modes with seeds 0 and 2 at 4e10 FLOPs (1555 generator
# steps, a few seconds each); with its learning rate x100 it collapses to 0-2 modes.
SUITE = """
dataset = "ring8"
variants = ["lsgan"]
[profiles.smoke]
budget = "4e10flops"
seeds = [0, 2]
snapshot_fractions = [0.5, 1.0]
train = { batch_size = 128, width = 64 }
eval = { n_samples = 2500 }
"""


def cli():
    """The regress command under ganbench's group (GanbenchError -> exit 2), registered or not."""
    return GanbenchGroup(commands=[regress_command])


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A one-benchmark suite and the baseline made from the unchanged lsgan, in this process."""
    root = tmp_path_factory.mktemp("regress")
    (root / "suite").mkdir()
    (root / "suite" / "ring8.toml").write_text(SUITE)
    result = regress(root / "suite", root / "baseline", workers=0, update_reason="test baseline")
    return root, result


def test_baseline_says_how_when_and_why(good):
    root, made = good
    entry = json.loads((root / "baseline" / "ring8" / "lsgan.json").read_text())
    assert entry["made"]["reason"] == "test baseline" and entry["made"]["date"]
    assert {"torch", "ganbench"} <= set(entry["made"]["versions"]) and entry["made"]["machine"]["cpu"]
    assert set(entry["seeds"]) == {"0", "2"} and entry["diverged"] == 0
    assert entry["summary"]["modes"] == {"mean": 8.0, "std": 0.0, "n": 2}, "the suite no longer trains lsgan well"
    assert [c.verdict for c in made.checks] == ["NEW"]


def test_unchanged_code_passes_bit_identically(good):
    root, _ = good
    result = regress(root / "suite", root / "baseline", workers=0)
    assert result.passed and result.identical == (2, 2) and result.same_environment
    assert {c.metric for c in result.checks} == {"diverged", "modes", "high_quality", "reverse_kl"}
    assert "result: PASS" in render_table(result)


class TooFastLsgan(Lsgan):
    """lsgan with its learning rate x100: a deliberate regression."""

    defaults = dataclasses.replace(Lsgan.defaults, lr=Lsgan.defaults.lr * 100)


def test_broken_variant_fails_naming_variant_and_metric(good, tmp_path):
    root, _ = good
    original = VARIANTS.get("lsgan")
    VARIANTS.register("lsgan", replace=True)(TooFastLsgan)  # same name: the suite trains the broken copy
    try:
        result = CliRunner().invoke(cli(), ["regress", "--suite", str(root / "suite"), "--baseline",
                                            str(root / "baseline"), "--workers", "0", "--junit", str(tmp_path / "j.xml")])
    finally:
        VARIANTS.register("lsgan", replace=True)(original)
    assert result.exit_code == 1, result.output
    assert "FAIL ring8/lsgan modes" in result.output and "result: FAIL" in result.output
    failures = {(c.get("classname"), c.get("name")) for c in ET.parse(tmp_path / "j.xml").iter("testcase")
                if c.find("failure") is not None}
    assert ("stability.ring8.lsgan", "modes") in failures


class FakeChasingLsgan(Lsgan):
    """lsgan whose generator chases the FAKE target a instead of c: a broken objective."""

    def g_objective(self, fake_scores):
        a, _, _ = CODINGS[self.options.coding]
        return 0.5 * ((fake_scores - a) ** 2).mean()


def test_broken_objective_fails(good):
    root, _ = good
    original = VARIANTS.get("lsgan")
    VARIANTS.register("lsgan", replace=True)(FakeChasingLsgan)
    try:
        result = regress(root / "suite", root / "baseline", workers=0)
    finally:
        VARIANTS.register("lsgan", replace=True)(original)
    assert not result.passed
    assert {c.metric for c in result.checks if c.verdict == "FAIL"} >= {"modes"}, render_table(result)


def test_changed_suite_is_refused_before_training(good, tmp_path):
    root, _ = good
    (tmp_path / "ring8.toml").write_text(SUITE.replace("seeds = [0, 2]", "seeds = [0, 1]"))
    result = CliRunner().invoke(cli(), ["regress", "--suite", str(tmp_path), "--baseline", str(root / "baseline")])
    assert result.exit_code == 2 and "changed since" in result.output and "--update-baseline" in result.output


@pytest.mark.parametrize("args, message", [
    (["--update-baseline"], "needs --reason"),
    (["--reason", "why"], "only goes with --update-baseline"),
    (["--update-baseline", "--reason", "  "], "needs --reason"),
    (["--workers", "-1"], "Invalid value for '--workers'"),
    (["--suite", "/nonexistent/suite"], "does not exist"),
    (["--benchmark", "ring9"], "unknown benchmark 'ring9'"),
    (["--variant", "no-such-gan"], "no stability runs selected"),
])
def test_cli_usage_errors_are_clear(good, args, message):
    root, _ = good
    base = ["regress", "--suite", str(root / "suite"), "--baseline", str(root / "baseline")]
    result = CliRunner().invoke(cli(), base + args)
    assert result.exit_code == 2 and message in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


# --- the rule, on synthetic entries (no training) -----------------------------------------------------------------

def entry(benchmark, variant, seeds):
    """A baseline/now entry; ``seeds`` maps seed -> metrics dict, "diverged" or "failed"."""
    out = {"schema": 1, "benchmark": benchmark, "variant": variant, "suite": {"sha256": "x"}, "seeds": {}}
    for seed, metrics in seeds.items():
        status = metrics if isinstance(metrics, str) else "finished"
        out["seeds"][str(seed)] = {"status": status, "metrics": {} if isinstance(metrics, str) else metrics,
                                   "diverged": None, "g_steps": 10, "error": "boom" if status == "failed" else None}
    return out


def verdicts(base_seeds, now_seeds, benchmark="fmnist", variant="v"):
    checks = compare({(benchmark, variant): entry(benchmark, variant, base_seeds)},
                     {(benchmark, variant): entry(benchmark, variant, now_seeds)})
    return {c.metric: c.verdict for c in checks}


def test_tolerance_is_k_std_or_floors():
    assert tolerance("modes", [8.0, 8.0, 8.0]) == 1.0  # absolute floor: one mode of the mean
    assert tolerance("fid/fmnist-cnn", [100.0, 100.0]) == pytest.approx(10.0)  # 10 % of the baseline
    assert tolerance("reverse_kl", [0.1, 0.5, 0.9]) == pytest.approx(K * 0.4)  # K x sample std


def test_metric_directions_and_tolerances():
    base = {s: {"fid/fmnist-cnn": 20.0 + s, "kid/fmnist-cnn": 0.01, "classes_covered": 10.0, "class_kl": 0.02}
            for s in range(3)}
    assert set(verdicts(base, base).values()) == {"PASS"}
    worse_fid = {s: {**m, "fid/fmnist-cnn": m["fid/fmnist-cnn"] + 3.5} for s, m in base.items()}
    assert verdicts(base, worse_fid)["fid/fmnist-cnn"] == "FAIL"  # tol = max(3 x 1, 2, 2.1) = 3
    better_fid = {s: {**m, "fid/fmnist-cnn": 5.0} for s, m in base.items()}
    assert verdicts(base, better_fid)["fid/fmnist-cnn"] == "PASS"  # improvements never fail
    fewer = {s: {**m, "classes_covered": 8.0} for s, m in base.items()}
    assert verdicts(base, fewer)["classes_covered"] == "FAIL"
    assert verdicts(base, {**base, 0: {**base[0], "classes_covered": 9.0}})["classes_covered"] == "PASS"
    worse_kid = {s: {**m, "kid/fmnist-cnn": 0.02} for s, m in base.items()}
    assert verdicts(base, worse_kid)["kid/fmnist-cnn"] == "FAIL"


@pytest.mark.parametrize("metric, base, within, beyond", [
    # floor regime, higher is better: tol = max(3 x 0, 1, 0.8) = 1 mode
    ("modes", [8.0, 8.0, 8.0], [7.0, 7.0, 7.03], [6.9, 6.9, 6.9]),
    # K x std regime, lower is better: std 0.4, tol = 1.2 (K = 2 would fail "within", K = 4 pass "beyond")
    ("reverse_kl", [0.1, 0.5, 0.9], [1.5, 1.6, 1.7], [1.7, 1.8, 1.9]),
    # relative floor, lower is better: tol = 10 % of 100
    ("fid/fmnist-cnn", [100.0, 100.0, 100.0], [109.0, 109.0, 109.0], [111.0, 111.0, 111.0]),
])
def test_worse_within_tolerance_passes_and_beyond_fails(metric, base, within, beyond):
    base_seeds = {s: {metric: v} for s, v in enumerate(base)}
    assert verdicts(base_seeds, {s: {metric: v} for s, v in enumerate(within)})[metric] == "PASS"
    assert verdicts(base_seeds, {s: {metric: v} for s, v in enumerate(beyond)})[metric] == "FAIL"


def test_more_diverged_seeds_fail_and_all_diverged_means_no_metric():
    base = {0: {"modes": 8.0}, 1: "diverged", 2: {"modes": 8.0}}
    assert verdicts(base, base)["diverged"] == "PASS"
    assert verdicts(base, {0: {"modes": 8.0}, 1: "diverged", 2: "failed"}) == {"diverged": "FAIL", "modes": "PASS"}
    assert verdicts(base, {0: "diverged", 1: "diverged", 2: "diverged"}) == {"diverged": "FAIL", "modes": "FAIL"}
    assert verdicts(base, {0: {"modes": 8.0}, 1: {"modes": 8.0}, 2: "diverged"})["diverged"] == "PASS"


def test_new_and_removed_variants():
    base = {("ring8", "old"): entry("ring8", "old", {0: {"modes": 1.0}})}
    now = {("ring8", "new"): entry("ring8", "new", {0: {"modes": 1.0}})}
    checks = {(c.variant, c.verdict) for c in compare(base, now)}
    assert checks == {("new", "NEW"), ("old", "FAIL")}


def test_junit_has_one_testcase_per_check():
    base = {("ring8", "a"): entry("ring8", "a", {0: {"modes": 8.0}}), ("ring8", "b"): entry("ring8", "b", {0: {"modes": 8.0}})}
    now = {("ring8", "a"): entry("ring8", "a", {0: {"modes": 2.0}}), ("ring8", "b"): base[("ring8", "b")],
           ("ring8", "c"): entry("ring8", "c", {0: {"modes": 2.0}})}
    result = Result(compare(base, now), now, 1.0, (1, 2), False)
    root = ET.fromstring(junit_xml(result))
    cases = list(root.iter("testcase"))
    assert len(cases) == len(result.checks) == 5
    assert root.get("failures") == "1" and root.get("skipped") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [("stability.ring8.a", "modes")]
    assert "result: FAIL (5 checks, 1 failed)" in render_table(result)


def test_update_refuses_failed_runs_and_a_full_update_prunes(tmp_path):
    ok = {("ring8", "a"): entry("ring8", "a", {0: {"modes": 8.0}})}
    with pytest.raises(GanbenchError, match="failed runs"):
        write_baseline(tmp_path, {("ring8", "a"): entry("ring8", "a", {0: "failed"})}, {}, "r", "", 1.0, prune=True)
    write_baseline(tmp_path, {**ok, ("ring8", "b"): entry("ring8", "b", {0: {"modes": 1.0}})}, {}, "first", "", 1.0,
                   prune=True)
    old = read_baseline(tmp_path)
    write_baseline(tmp_path, ok, old, "second", "", 1.0, prune=True)
    now = read_baseline(tmp_path)
    assert set(now) == {("ring8", "a")}
    assert now[("ring8", "a")]["made"]["reason"] == "second"
    assert [h["reason"] for h in now[("ring8", "a")]["history"]] == ["first"]


def test_committed_baseline_matches_the_stability_suite():
    baseline = read_baseline(ROOT / "results" / "baseline")
    suites = discover(ROOT / "benchmarks" / "stability")
    assert {(b.name, v) for b in suites for v in b.variant_names()} == set(baseline)
    for bench in suites:
        for variant in bench.variant_names():
            made = baseline[(bench.name, variant)]
            assert made["suite"]["sha256"] == suite_fingerprint(ROOT / "benchmarks" / "stability", bench.name), f"{bench.name} changed: remake the baseline"
            assert sorted(map(int, made["seeds"])) == list(bench.profile("smoke").seeds)
            assert made["made"]["reason"] and made["made"]["versions"]["torch"]
