"""Allocation churn: glibc ``MALLOC_*`` tunables (and a preloaded allocator, where
one is installed) versus glibc's defaults, in fresh worker processes.

glibc reads its tunables once, when a process starts, so every setting runs in
a subprocess started with that environment (as ganbench's suite workers are,
see ``ganbench.suite.executors.worker_malloc_env``). Each worker times, on one torch
thread, after a warm-up:

* dcgan  -- ``train_iteration`` of the quick Fashion-MNIST DCGAN (vanilla, width 32);
* mlp    -- ``train_iteration`` of the quick ring8 MLP (vanilla, batch 256);
* score  -- ``score_images`` (FID + IS, fmnist-cnn) of 2,000 images, real features cached;

and reports per unit: wall and process CPU milliseconds, minor page faults
(``ru_minflt``) and system CPU milliseconds (``ru_stime``) -- the kernel's share,
where returned-and-refaulted memory shows. Settings run round-robin, in
reverse order every other round (A B, B A ...), and each cell keeps its
median, so load drifts hit all alike.
Ratios are setting / default (< 1: fewer faults, less time).

An allocator from a wheel: ``pip download --no-deps cmeel-mimalloc`` and unzip
``cmeel.prefix/lib/libmimalloc.so.*``, then ``--preload /path/to/libmimalloc.so.3.4``.
"""

from __future__ import annotations

import argparse
import ctypes.util
import json
import os
import resource
import subprocess
import sys
import time

import _common as C

from ganbench.suite.executors import WORKER_MALLOC_ENV

STAGES = ("dcgan", "mlp", "score")


def settings(preload: list[str]) -> dict[str, dict[str, str]]:
    """Environments to compare: glibc defaults, ganbench's choice, variations, allocators
    found on the system or given (e.g. libmimalloc.so from the cmeel-mimalloc wheel)."""
    out = {"glibc default": {},
           "ganbench (mmap+trim+top pad)": dict(WORKER_MALLOC_ENV),
           "ganbench + MALLOC_ARENA_MAX=1": {**WORKER_MALLOC_ENV, "MALLOC_ARENA_MAX": "1"}}
    for name in ("jemalloc", "tcmalloc_minimal"):
        lib = ctypes.util.find_library(name)
        if lib:
            out[f"LD_PRELOAD {lib}"] = {"LD_PRELOAD": lib}
    for lib in preload:
        out[f"LD_PRELOAD {os.path.basename(lib)}"] = {"LD_PRELOAD": lib}
    return out


def usage() -> tuple[float, float, float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), time.process_time(), r.ru_stime, r.ru_minflt


def measure(fn, units: int) -> dict:
    a = usage()
    for _ in range(units):
        fn()
    b = usage()
    return {"wall ms": 1e3 * (b[0] - a[0]) / units, "cpu ms": 1e3 * (b[1] - a[1]) / units,
            "sys ms": 1e3 * (b[2] - a[2]) / units, "minflt": (b[3] - a[3]) / units}


def worker(iters: int, stages: list[str]) -> None:
    """Run in the subprocess: time the stages, print one JSON line."""
    import torch

    from ganbench.metrics import score_images
    from ganbench.training.trainer import build_run, train_iteration

    C.single_thread()
    out = {}
    for stage, dataset in (("dcgan", "fashion-mnist"), ("mlp", "ring8")):
        if stage not in stages:
            continue
        data = C.load(dataset)
        run = build_run(C.resolved(C.profile_config("vanilla", dataset, "quick"), data), data)
        for _ in range(5):
            train_iteration(run)  # warm-up: kernels chosen, allocator at its steady state
        out[stage] = measure(lambda: train_iteration(run), iters * (4 if stage == "mlp" else 1))
    if "score" not in stages:
        return print(json.dumps(out))
    fake = C.load("fashion-mnist").data[:2000]
    kw = {"n_real": 2000, "metrics": ("fid", "is")}
    score_images(fake, "fashion-mnist", **kw)  # warm-up; real features from the cache
    out["score"] = measure(lambda: score_images(fake, "fashion-mnist", **kw), 1)
    out["torch"] = torch.__version__
    print(json.dumps(out))


def run_worker(env_extra: dict, iters: int, stages: list[str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "LD_PRELOAD"}
    env.update(env_extra)
    proc = subprocess.run([sys.executable, __file__, "--worker", "--iters", str(iters), "--stages", *stages], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"worker with {env_extra} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=20, help="timed DCGAN iterations per worker (MLP: 4x)")
    p.add_argument("--rounds", type=int, default=2, help="round-robin rounds (a fresh worker per cell each)")
    p.add_argument("--preload", nargs="*", default=[], help="allocator libraries to compare (LD_PRELOAD)")
    p.add_argument("--stages", nargs="+", default=list(STAGES), choices=STAGES)
    p.add_argument("--settings", nargs="+", default=None, help="names of settings to keep besides the default")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args.iters, args.stages)
    print(C.machine_line())
    envs = settings(args.preload)
    if args.settings:
        envs = {k: v for k, v in envs.items() if k == "glibc default" or any(s in k for s in args.settings)}
    results = {name: [] for name in envs}
    for r in range(args.rounds):
        for name, env in list(envs.items())[::1 if r % 2 == 0 else -1]:  # A B, B A: no seat favoured
            results[name].append(run_worker(env, args.iters, args.stages))
    base = {s: {k: C.median([r[s][k] for r in results["glibc default"]]) for k in results["glibc default"][0][s]}
            for s in args.stages}
    rows = []
    for name, runs in results.items():
        for s in args.stages:
            med = {k: C.median([r[s][k] for r in runs]) for k in base[s]}
            rows.append({"setting": name, "stage": s, **{k: round(v, 1) for k, v in med.items()},
                         **{f"{k} ratio": round(med[k] / base[s][k], 2) if base[s][k] else float("nan")
                            for k in ("wall ms", "cpu ms", "minflt", "sys ms")}})
    C.print_table(rows, f"per unit (iteration, or one scoring), median of {args.rounds} fresh workers; "
                        f"ratio = setting / glibc default")
    print("\nganbench's worker environment: " + " ".join(f"{k}={v}" for k, v in WORKER_MALLOC_ENV.items()))
    print(f"(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
