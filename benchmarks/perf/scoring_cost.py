"""Scoring cost per snapshot of the quick image benchmarks, and the quick suite's scoring share.

For fashion-mnist and stacked-fashion-mnist, with each ``[profiles.quick]``'s
``n_samples`` / ``n_real`` and the quick DCGAN generator (width 32, untrained,
seed 0: scoring cost does not depend on what the samples look like), one torch
thread and the suite workers' allocator settings (``WORKER_MALLOC_ENV``), it
times in process CPU seconds (the cores are shared: CPU time is the fair
measure; wall seconds are printed too):

* generate -- drawing the snapshot's samples (``generate_for``, as ``evaluate_run``);
* cold     -- the first ``score`` call, every metric, on an empty ``$GANBENCH_CACHE``
              (a temp dir): real features, k-NN radii and NDB bins are computed;
* curve    -- a later call with ``CURVE_METRICS`` (fid, is, modes): what every
              snapshot but the last scores, with the real side from the cache;
* last     -- a later call with every metric: the run's last snapshot.

Per run: (snapshots - 1) x (generate + curve) + (generate + last); the cold
call's extra (cold - last) is paid once per benchmark. The share line adds
the training seconds of the committed quick records (results/runs/<benchmark>/,
``spent.seconds``; the 2-D benchmarks' scoring is not timed here: milliseconds
a snapshot). Those records were made on another machine: the share is an
estimate, CPU seconds here against wall seconds there.

``--cprofile`` prints the 12 functions with the most own time for each call.
Run it on an older checkout (``PYTHONPATH=<checkout>``) for the before numbers.
"""

from __future__ import annotations

import argparse
import cProfile
import glob
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IMAGE_BENCHMARKS = ("fashion-mnist", "stacked-fashion-mnist")
QUICK_SUITE = ("ring8", "grid25") + IMAGE_BENCHMARKS  # `ganbench run --all` on the quick profile


def reexec_with_worker_malloc() -> None:
    """glibc reads MALLOC_* only at start: re-run this script with the workers' values."""
    from ganbench.suite.executors import WORKER_MALLOC_ENV

    missing = {k: v for k, v in WORKER_MALLOC_ENV.items() if k not in os.environ}
    if missing:
        os.environ.update(missing)
        os.execv(sys.executable, [sys.executable] + sys.argv)


def timed(fn, profile: bool):
    prof = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    out = fn()
    if prof:
        prof.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if prof:
        pstats.Stats(prof).sort_stats("tottime").print_stats(12)
    return out, cpu, wall


def measure(name: str, profile: bool) -> dict:
    """CPU and wall seconds of generate / cold / curve / last for one benchmark's quick profile."""
    import torch

    from ganbench.config.benchmarks import load_benchmark
    from ganbench.config.run import resolve
    from ganbench.datasets import load_dataset
    from ganbench.evaluation.evaluate import CURVE_METRICS, _build_generator, score
    from ganbench.training.samples import generate_for

    bench = load_benchmark(ROOT / "benchmarks" / f"{name}.toml")
    quick = bench.profile("quick")
    info = load_dataset(bench.dataset, "test").info
    config = resolve(bench.run_configs("quick")[0], info.kind)  # as the trainer records it
    torch.manual_seed(0)
    generator = _build_generator(config, info)
    n_samples, n_real = quick.eval.n_samples, quick.eval.n_real
    row = {"benchmark": name, "n_samples": n_samples, "n_real": n_real,
           "snapshots/run": len(quick.snapshot_fractions), "runs": len(bench.run_configs("quick"))}
    fake, row["generate cpu"], row["generate wall"] = timed(lambda: generate_for(generator, n_samples, config), False)
    for label, metrics in (("cold", None), ("curve", CURVE_METRICS), ("last", None)):
        if profile:
            print(f"\n=== {name}: {label}")
        _, row[f"{label} cpu"], row[f"{label} wall"] = timed(
            lambda: score(fake, config, info, n_real=n_real, metrics=metrics), profile)
    return row


def training_seconds(benchmarks) -> dict[str, float]:
    """spent.seconds summed over the committed quick records of each benchmark."""
    out = {}
    for name in benchmarks:
        meta = json.loads((ROOT / "results" / "runs" / name / "benchmark.json").read_text())
        if meta.get("profile") != "quick":
            raise SystemExit(f"results/runs/{name} is profile {meta.get('profile')!r}, not quick")
        records = glob.glob(str(ROOT / "results" / "runs" / name / "*" / "seed*" / "record.json"))
        out[name] = sum(json.loads(Path(p).read_text())["spent"]["seconds"] for p in records)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmarks", nargs="+", default=list(IMAGE_BENCHMARKS), choices=IMAGE_BENCHMARKS)
    p.add_argument("--cprofile", action="store_true", help="print each call's top functions by own time")
    args = p.parse_args()
    reexec_with_worker_malloc()
    import torch

    torch.set_num_threads(1)  # as each suite worker
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, 1 torch thread, load average {load}")
    rows, scoring = [], {}
    for name in args.benchmarks:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["GANBENCH_CACHE"] = cache
            row = measure(name, args.cprofile)
        per_run = (row["snapshots/run"] - 1) * (row["generate cpu"] + row["curve cpu"]) + row["generate cpu"] \
            + row["last cpu"]
        row["per run cpu"] = per_run
        scoring[name] = row["runs"] * per_run + (row["cold cpu"] - row["last cpu"])
        rows.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
    print("\nper-snapshot scoring seconds (cpu: process CPU time; wall: elapsed, inflated by load)")
    for row in rows:
        print("  " + ", ".join(f"{k} {v}" for k, v in row.items()))
    train = training_seconds(QUICK_SUITE)
    total_train = sum(train.values())
    total_scoring = sum(scoring.values())
    for name, seconds in scoring.items():
        print(f"{name}: scoring {seconds / 60:.1f} CPU-min here vs training {train[name] / 60:.1f} min (records)")
    print(f"quick suite: training {total_train / 60:.1f} min (records, {', '.join(QUICK_SUITE)}), image scoring "
          f"{total_scoring / 60:.1f} CPU-min here ({', '.join(scoring)}): scoring share "
          f"{100 * total_scoring / (total_train + total_scoring):.1f} % of worker time")


if __name__ == "__main__":
    main()
