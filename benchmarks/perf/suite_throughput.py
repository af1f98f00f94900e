"""Suite throughput: a 2-worker process pool (1 torch thread each) versus one process.

What it measures: total wall time of training the same small runs with
ganbench's real ``train()``: 4 ``ring8`` runs (vanilla, wgan-gp, lsgan,
loss-sensitive) and 2 ``fashion-mnist`` runs (vanilla, lsgan), with the
settings of the CI ``smoke`` profile (ring8 batch 128 width 64; fashion-mnist
DCGAN width 8), each stopped after a few hundred iterations (``--ring8-iters``,
``--image-iters``; FLOP accounting, snapshots and checkpoints as usual):

* pool       -- ``concurrent.futures.ProcessPoolExecutor`` with the spawn start
                method, ``--workers`` workers (default: one per core), each
                worker's initializer calling ``torch.set_num_threads(1)``; the
                time includes starting the workers and their imports;
* sequential -- the same runs one after another in this process, with torch's
                default thread count (``torch.get_num_threads()`` at start-up);
                for reference also with one thread, which separates the gain
                of running two runs at once from the cost of two threads.

The two are run alternately (pool, sequential, sequential, pool ...) and the
median of the repeats is reported. ``ganbench run`` uses this same policy: its
local executor (``ganbench.suite.executors.run_local``) is a spawn-context process
pool with one worker per core, each worker set to one torch thread.

Runtime: about a minute on a quiet machine with the defaults; the sequential
side can take many times longer while other processes load the cores (two
threads that wait for each other at every op suffer most), so watch the load
average printed above and below the tables.

Target: speedup >= 1 (the pool never loses to one multi-threaded process).
Two single-thread workers keep both cores busy with independent runs, while
two threads in one process split each small op and synchronise on every one.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _common as C
import torch

DEFAULT_THREADS = torch.get_num_threads()  # read before anything changes it


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="~30 s: shorter runs, one repeat")
    p.add_argument("--repeats", type=int, default=None, help="pool/sequential pairs (default 2, quick 1)")
    p.add_argument("--profile", choices=C.PROFILE_CHOICES, default="smoke", help="settings of this profile (default smoke)")
    p.add_argument("--ring8-iters", type=int, default=None, help="iterations per ring8 run (default 150, quick 50)")
    p.add_argument("--image-iters", type=int, default=None, help="iterations per fashion-mnist run (default 50, quick 15)")
    p.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="pool size (default: cores)")
    args = p.parse_args()
    args.repeats = args.repeats or (1 if args.quick else 2)
    args.ring8_iters = args.ring8_iters or (50 if args.quick else 150)
    args.image_iters = args.image_iters or (15 if args.quick else 50)
    return args


def suite(profile: str, ring8_iters: int, image_iters: int) -> list:
    """The runs of the measured suite: a profile's settings, short step caps."""
    ring8 = [C.capped(C.profile_config(v, "ring8", profile), ring8_iters)
             for v in ("vanilla", "wgan-gp", "lsgan", "loss-sensitive")]
    images = [C.capped(C.profile_config(v, "fashion-mnist", profile), image_iters) for v in ("vanilla", "lsgan")]
    return ring8 + images


def init_worker() -> None:
    """The pool's per-process policy: one torch thread (as ``ganbench run``)."""
    torch.set_num_threads(1)


def train_one(config) -> tuple[str, str, float, int]:
    """Train one run into a throw-away directory; (name, status, seconds, threads)."""
    from ganbench.training.trainer import train

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        record = train(config, Path(tmp) / "run")
    return f"{config.dataset}/{config.variant}", record["status"], time.perf_counter() - start, torch.get_num_threads()


def run_pool(configs: list, workers: int) -> tuple[float, list]:
    start = time.perf_counter()
    context = mp.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker) as pool:
        results = list(pool.map(train_one, configs))
    return time.perf_counter() - start, results


def run_sequential(configs: list, threads: int) -> tuple[float, list]:
    torch.set_num_threads(threads)
    start = time.perf_counter()
    results = [train_one(c) for c in configs]
    return time.perf_counter() - start, results


def main() -> None:
    args = parse_args()
    configs = suite(args.profile, args.ring8_iters, args.image_iters)
    print(C.machine_line())  # torch threads here = the default
    train_one(C.capped(configs[0], 5))  # warm this process's imports and kernel caches
    modes = {"pool": f"pool, spawn, {args.workers} workers x 1 thread",
             "sequential": f"sequential, 1 process x {DEFAULT_THREADS} threads (torch default)",
             "sequential-1": "sequential, 1 process x 1 thread (for reference)"}
    walls = {m: [] for m in modes}
    per_run = {m: {} for m in modes}
    for r in range(args.repeats):
        order = list(modes) if r % 2 == 0 else list(reversed(modes))
        for mode in order:
            if mode == "pool":
                wall, results = run_pool(configs, args.workers)
            else:
                wall, results = run_sequential(configs, DEFAULT_THREADS if mode == "sequential" else 1)
            walls[mode].append(wall)
            for name, status, seconds, _ in results:
                per_run[mode].setdefault(name, []).append((seconds, status))
            print(f"  repeat {r + 1}: {mode} {wall:.1f} s", flush=True)
    seq = C.median(walls["sequential"])
    rows = [{"mode": label, "wall s (median)": round(C.median(walls[m]), 2),
             "repeats": " ".join(f"{w:.1f}" for w in walls[m]),
             "speedup vs sequential": round(seq / C.median(walls[m]), 2)} for m, label in modes.items()]
    C.print_table(rows, f"Suite of {len(configs)} runs, profile {args.profile!r} settings, {args.ring8_iters} ring8 / "
                        f"{args.image_iters} fashion-mnist iterations each; median of {args.repeats} alternating repeat(s)")
    run_rows = [{"run": name, "status": per_run["pool"][name][0][1],
                 **{f"{m} s": round(C.median([s for s, _ in per_run[m][name]]), 2) for m in modes}}
                for name in per_run["pool"]]
    C.print_table(run_rows, "Seconds per run, inside the worker / the process (pool runs share the cores)")
    print(f"\n(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
