"""Fixture records for the report tests, and tests of record loading.

The helpers write schema-1 run records (and samples files) into a tmp_path
the way the trainer lays them out, with values the tests choose, so every
expected number can be worked out by hand. Other test_report_* modules
import them from here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from ganbench.report import NoRecordsError, RecordWarning, load_records

BUDGET = {"unit": "flops", "limit": 2.0e11, "max_g_steps": None}
RING = [(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)]


def make_record(benchmark, variant, seed, final, *, dataset=None, status="finished",
                budget=None, fractions=(0.5, 1.0), **extra) -> dict:
    """A schema-1 record whose last snapshot carries ``final``.

    Earlier snapshots carry the final values scaled by the fraction, so curves
    have a known shape; ``flops`` is the fraction of the budget limit.
    """
    budget = dict(BUDGET if budget is None else budget)
    snapshots = []
    for frac in fractions:
        metrics = {k: (v if frac == fractions[-1] else v * frac) for k, v in final.items()}
        snapshots.append({"fraction": frac, "g_step": int(100 * frac),
                          "flops": frac * budget["limit"], "seconds": 10.0 * frac + seed,
                          "path": f"snapshots/g_{frac:.2f}.pt", "metrics": metrics})
    record = {
        "schema_version": 1, "run_id": f"{benchmark}/{variant}/seed{seed}",
        "benchmark": benchmark, "variant": variant, "dataset": dataset or benchmark,
        "seed": seed, "status": status, "config": {}, "budget": budget,
        "spent": {"flops": budget["limit"], "seconds": 12.3, "d_steps": 500, "g_steps": 100,
                  "images_seen": 38400},
        "step_flops": {"d_step": 1.0e8, "g_step": 6.0e7}, "diverged": None,
        "device": {"type": "cpu", "name": "test"}, "versions": {"python": "3.11"},
        "losses": {"g_step": [], "d_loss": [], "g_loss": []}, "snapshots": snapshots,
        "metrics": dict(final), "checkpoint": "checkpoint.pt", "volatile": ["spent.seconds"]}
    record.update(extra)
    return record


def run_dir(root: Path, benchmark: str, variant: str, seed: int) -> Path:
    """Where the trainer puts a run: ``root/runs/<benchmark>/<variant>/seed<k>``."""
    return root / "runs" / benchmark / variant / f"seed{seed}"


def write_record(root: Path, record: dict) -> Path:
    """Write ``record`` as record.json in its run directory; return the path."""
    path = run_dir(root, record["benchmark"], record["variant"], record["seed"]) / "record.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    # allow_nan: the trainer's json.dump writes NaN for a diverged metric.
    path.write_text(json.dumps(record, indent=2, allow_nan=True))
    return path


def ring_samples(path: Path, modes: int, seed: int, n: int = 400) -> None:
    """``n`` points around the first ``modes`` ring8 centres (std 0.01)."""
    rng = np.random.default_rng(seed)
    centers = np.array(RING[:modes])[rng.integers(0, modes, n)]
    points = centers + 0.01 * rng.standard_normal((n, 2))
    np.save(path, points.astype(np.float32))


def grid_png(path: Path, seed: int) -> None:
    """A small deterministic 'sample grid' image."""
    import matplotlib.image
    rng = np.random.default_rng(seed)
    matplotlib.image.imsave(path, rng.random((56, 56)), cmap="gray", vmin=0, vmax=1)


def ring8_suite(root: Path) -> None:
    """ring8: 3 variants x 3 seeds, values chosen for hand-checkable statistics.

    vanilla  modes 1,2,3 (mean 2), one more seed diverged (NaN reverse KL)
    wgan-gp  modes 8,8,8 (best), reverse KL .1,.2,.3
    lsgan    modes 6,7,8; plus one run still running
    """
    table = {"vanilla": ([1, 2, 3], [1.5, 1.2, 0.9]), "wgan-gp": ([8, 8, 8], [0.1, 0.2, 0.3]),
             "lsgan": ([6, 7, 8], [0.5, 0.4, 0.3])}
    for variant, (modes, rkl) in table.items():
        for seed in range(3):
            final = {"modes": modes[seed], "high_quality": 90.0 - seed, "reverse_kl": rkl[seed]}
            rec = make_record("ring8", variant, seed, final, samples="samples.npy")
            ring_samples(write_record(root, rec).parent / "samples.npy", modes[seed], seed)
    write_record(root, make_record("ring8", "vanilla", 3, {"modes": 1, "reverse_kl": math.nan},
                                   status="diverged"))
    write_record(root, make_record("ring8", "lsgan", 3, {}, status="running", snapshots=[],
                                   metrics={}))


def image_suite(root: Path) -> None:
    """fmnist: 3 variants x 2 seeds with FID/IS/KID from the FMNIST-CNN extractor."""
    fids = {"vanilla": [40.0, 44.0], "wgan-gp": [30.0, 31.0], "lsgan": [50.0, 70.0]}
    for variant, values in fids.items():
        for seed, fid in enumerate(values):
            final = {"fid/fmnist-cnn": fid, "is/fmnist-cnn": 100.0 / fid,
                     "kid/fmnist-cnn": fid / 1000, "classes_covered": 10 - seed}
            rec = make_record("fmnist", variant, seed, final, dataset="fashion-mnist",
                              samples="samples.png", budget={"unit": "seconds", "limit": 600})
            grid_png(write_record(root, rec).parent / "samples.png", seed)


def test_runs_are_classified_not_dropped(tmp_path):
    ring8_suite(tmp_path)
    records = load_records(tmp_path)
    outcome = records.runs.groupby(["variant", "outcome"]).size().to_dict()
    assert outcome == {("lsgan", "finished"): 3, ("lsgan", "incomplete"): 1,
                       ("vanilla", "diverged"): 1, ("vanilla", "finished"): 3,
                       ("wgan-gp", "finished"): 3}
    # only finished runs feed the statistics
    assert set(records.finals["seed"]) == {0, 1, 2}


def test_nan_final_metric_counts_as_diverged(tmp_path):
    write_record(tmp_path, make_record("ring8", "vanilla", 0, {"modes": 8, "reverse_kl": math.nan}))
    write_record(tmp_path, make_record("ring8", "vanilla", 1, {"modes": 8, "reverse_kl": 0.1}))
    runs = load_records(tmp_path).runs.set_index("seed")
    assert runs.at[0, "outcome"] == "diverged" and runs.at[1, "outcome"] == "finished"


def test_bad_records_are_skipped_with_a_warning_naming_them(tmp_path):
    write_record(tmp_path, make_record("ring8", "vanilla", 0, {"modes": 8}))
    future = make_record("ring8", "vanilla", 1, {"modes": 8}, schema_version=99)
    write_record(tmp_path, future)
    no_variant = make_record("ring8", "lsgan", 0, {"modes": 8})
    path = write_record(tmp_path, no_variant)
    del no_variant["variant"]
    path.write_text(json.dumps(no_variant))
    broken = run_dir(tmp_path, "ring8", "wgan-gp", 0) / "record.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    with pytest.warns(RecordWarning) as caught:
        records = load_records(tmp_path)
    messages = "\n".join(str(w.message) for w in caught)
    assert "runs/ring8/vanilla/seed1/record.json" in messages and "schema_version 99" in messages
    assert "runs/ring8/lsgan/seed0/record.json" in messages and "'variant'" in messages
    assert "runs/ring8/wgan-gp/seed0/record.json" in messages
    assert len(records.runs) == 1 and len(records.skipped) == 3


def test_finished_but_unscored_is_incomplete_not_diverged(tmp_path):
    # the trainer writes metrics {} and `ganbench evaluate` fills them later
    write_record(tmp_path, make_record("ring8", "vanilla", 0, {}))
    assert load_records(tmp_path).runs.at[0, "outcome"] == "incomplete"


def test_empty_results_dir_says_so(tmp_path):
    with pytest.raises(NoRecordsError, match="no run records found"):
        load_records(tmp_path)
