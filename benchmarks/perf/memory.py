"""Memory: peak resident set size of a quick Fashion-MNIST training run.

What it measures: the peak resident set size of fresh spawned processes, so
each number belongs to one stage alone. It is read from ``VmHWM`` in
``/proc/self/status`` (``resource.getrusage(RUSAGE_SELF).ru_maxrss`` where
there is no /proc): on Linux ru_maxrss survives exec, so a child spawned by
this (large) process would report this process's peak instead of its own.

* imports  -- Python + torch + ganbench's trainer imported, nothing else;
* + data   -- the above plus the Fashion-MNIST train split loaded (60,000
              uint8 images, 47 MB decompressed);
* run      -- ganbench's real ``train()`` of a Fashion-MNIST DCGAN (width 32,
              batch 64, one torch thread) under a FLOP budget of ``--iters``
              iterations (default 200), with its checkpoints, snapshots and
              final samples.

``run - imports`` is what training itself adds. Target: none is set; a suite
worker's footprint times the workers per machine must fit its memory (the
local executor runs one worker per core).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import _common as C


def peak_rss_mib() -> float:
    """Peak RSS of this process image: VmHWM where Linux has it, else ru_maxrss.

    Linux carries ru_maxrss across exec from the image the child was forked
    from, so a child spawned by a large parent reports the parent's peak;
    VmHWM belongs to the new image alone.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def stage(name: str, flops: float, width: int, variant: str, queue) -> None:
    """Run one stage in this (fresh) process and report its peak RSS."""
    import torch

    torch.set_num_threads(1)
    from ganbench.training import trainer

    info = {"stage": name}
    if name == "+ data":
        C.load("fashion-mnist")
    elif name == "run":
        config = C.run_config(variant, "fashion-mnist", flops=flops, width=width)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            record = trainer.train(config, Path(tmp) / "run")
        info.update({"g steps": record["spent"]["g_steps"], "status": record["status"],
                     "seconds": round(time.perf_counter() - start, 1)})
    info["peak RSS MiB"] = round(peak_rss_mib(), 1)
    queue.put(info)


def in_fresh_process(name: str, flops: float, width: int, variant: str) -> dict:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=stage, args=(name, flops, width, variant, queue))
    process.start()
    info = queue.get()
    process.join()
    return info


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="50 iterations instead of 200")
    p.add_argument("--iters", type=int, default=None, help="iterations the FLOP budget allows (default 200, quick 50)")
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--variants", nargs="+", default=["vanilla"], choices=C.VARIANT_NAMES)
    args = p.parse_args()
    iters = args.iters or (50 if args.quick else 200)
    C.single_thread()
    print(C.machine_line())
    data = C.load("fashion-mnist")
    rows = [in_fresh_process("imports", 0, args.width, ""), in_fresh_process("+ data", 0, args.width, "")]
    for variant in args.variants:
        flops, _ = C.iteration_flops(C.run_config(variant, "fashion-mnist", width=args.width), data)
        row = in_fresh_process("run", iters * flops, args.width, variant)
        row["stage"] = f"run: {variant}, width {args.width}, budget {iters * flops:.3g} FLOPs"
        row["run - imports MiB"] = round(row["peak RSS MiB"] - rows[0]["peak RSS MiB"], 1)
        rows.append(row)
    C.print_table([{k: r.get(k, "") for k in ("stage", "peak RSS MiB", "run - imports MiB", "g steps", "status", "seconds")}
                   for r in rows], "Peak resident memory (VmHWM) of fresh processes, 1 torch thread")


if __name__ == "__main__":
    main()
