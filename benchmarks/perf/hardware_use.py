"""Hardware use: achieved FLOP/s of a DCGAN training iteration versus matmul peak.

What it measures, on one CPU thread:

* peak     -- the machine's dense fp32 matmul rate: ``torch.mm`` on square
              matrices of 1024, 1536 and 2048, best of several timings each,
              best size kept;
* achieved -- FLOPs of one training iteration (n_critic critic steps + one G
              step) from ganbench's own counter (``measure_step_flops``:
              convolutions and matmuls, forward and backward) divided by the
              time of ganbench's ``train_iteration`` on the Fashion-MNIST DCGAN,
              for every variant and widths 64 and 32, in the default NCHW
              layout and with ``channels_last=True``. Variants are timed
              round-robin; "best" is the fastest iteration (consistent with
              the best-of peak), "median" the typical one.

Both are timed in process CPU time: single-threaded, it equals wall time on
an idle core, and it leaves out the time other processes hold the shared
core, which would otherwise skew peak and step differently.

* mlp      -- the same for the quick ring8 MLP step (batch 256, the default
              width), every variant: the 2-D benchmarks are half the quick
              profile's FLOPs.

Target (issue 24): best achieved >= 50 % of peak for the quick DCGAN (width 32)
and the quick MLP.
For the worst cell below target of each width and layout, a torch.profiler breakdown (share of self CPU time by
kind of op, and the convolution/matmul rate alone) says what bounds the step.
"""

from __future__ import annotations

import argparse
from collections import defaultdict

import _common as C

from ganbench.training.trainer import build_run, train_iteration

TARGET = 0.50


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer timed iterations (~20 s)")
    p.add_argument("--iters", type=int, default=None, help="timed iterations per cell (default 6, quick 2)")
    p.add_argument("--widths", type=int, nargs="+", default=[64, 32])
    p.add_argument("--variants", nargs="+", default=list(C.VARIANT_NAMES), choices=C.VARIANT_NAMES)
    p.add_argument("--no-channels-last", action="store_true", help="skip the channels_last rows")
    p.add_argument("--no-mlp", action="store_true", help="skip the ring8 MLP rows")
    p.add_argument("--profile", choices=("below-target", "all", "none"), default="below-target",
                   help="which cells get a profiler breakdown (default: the worst cell below target "
                        "of each width and layout)")
    args = p.parse_args()
    args.iters = args.iters or (2 if args.quick else 6)
    return args


def time_cells(cells: dict, iters: int) -> dict:
    """Per-iteration seconds of train_iteration for every cell, timed round-robin."""
    import time

    times = defaultdict(list)
    for run, _ in cells.values():
        train_iteration(run)  # warm-up: kernel selection, allocator
    for _ in range(iters):
        for key, (run, _) in cells.items():
            start = time.process_time()  # CPU time: immune to other processes taking the core
            train_iteration(run)
            times[key].append(time.process_time() - start)
    return times


def category(event) -> str:
    """Kind of work a profiler event's self time belongs to."""
    parent = event.cpu_parent
    while parent is not None:
        if parent.name.startswith("Optimizer."):
            return "optimizer"
        parent = parent.cpu_parent
    name = event.name
    if name.startswith("Optimizer."):
        return "optimizer"
    if "convolution_backward" in name:
        return "conv bwd"
    if "conv" in name:
        return "conv fwd"
    if name in ("aten::addmm", "aten::mm", "aten::bmm", "aten::matmul", "aten::linear"):
        return "linear"
    if "norm" in name:
        return "norm"
    if name in ("aten::copy_", "aten::clone", "aten::contiguous", "aten::_to_copy", "aten::index"):
        return "copies/gather"
    if name.startswith("aten::"):
        return "elementwise/other aten"
    return "framework (autograd, python)"


def profile_cell(run, iters: int = 3) -> tuple[dict, list]:
    """Self-CPU share per category and the top ops (with input shapes) for one cell."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(iters):
            train_iteration(run)
    shares = defaultdict(float)
    for event in prof.events():
        shares[category(event)] += event.self_cpu_time_total
    total = sum(shares.values())
    top = sorted(prof.key_averages(group_by_input_shape=True), key=lambda e: -e.self_cpu_time_total)[:8]
    tops = [{"op": e.key, "input shapes": str(e.input_shapes[:2])[:60], "calls/iter": e.count // iters,
             "self %": round(100 * e.self_cpu_time_total / total, 1)} for e in top]
    return {k: v / total for k, v in shares.items()}, tops


def mlp_rows(args, peak: float) -> None:
    """The quick ring8 MLP step of every variant against the same peak."""
    data = C.load("ring8")
    cells = {}
    for variant in args.variants:
        config = C.resolved(C.run_config(variant, "ring8", batch_size=256), data)
        cells[variant] = (build_run(config, data), C.iteration_flops(config, data)[0])
    times = time_cells(cells, args.iters * 10)  # steps of a few ms: more of them
    rows = []
    for variant, (_run, flops) in cells.items():
        best, med = min(times[variant]), C.median(times[variant])
        rows.append({"variant": variant, "width": cells[variant][0].config.width,
                     "MFLOP/iter": round(flops / 1e6, 1), "ms best": round(1e3 * best, 2),
                     "GFLOP/s best": round(flops / best / 1e9, 1), "% peak best": round(100 * flops / best / peak, 1),
                     "% peak median": round(100 * flops / med / peak, 1),
                     "target": "ok" if flops / best / peak >= TARGET else "BELOW"})
    C.print_table(rows, f"ring8 MLP (quick: batch 256), 1 thread, {args.iters * 10} timed iterations per cell "
                        f"(target: best >= {100 * TARGET:.0f} % of peak)")


def main() -> None:
    args = parse_args()
    C.single_thread()
    print(C.machine_line())
    peak, per_size = C.matmul_peak()
    C.print_table([{"matmul n": n, "GFLOP/s": round(f / 1e9, 1)} for n, f in per_size.items()],
                  f"fp32 matmul, 1 thread (peak = best = {peak / 1e9:.1f} GFLOP/s)")
    data = C.load("fashion-mnist")
    layouts = [False] if args.no_channels_last else [False, True]
    cells = {}
    for width in args.widths:
        for layout in layouts:
            for variant in args.variants:
                config = C.resolved(C.run_config(variant, "fashion-mnist", width=width, channels_last=layout), data)
                flops, _ = C.iteration_flops(config, data)
                cells[(width, layout, variant)] = (build_run(config, data), flops)
    times = time_cells(cells, args.iters)
    rows, below, worst = [], [], {}
    for (width, layout, variant), (_run, flops) in cells.items():
        best, med = min(times[(width, layout, variant)]), C.median(times[(width, layout, variant)])
        share = flops / best / peak
        rows.append({"width": width, "layout": "channels_last" if layout else "NCHW", "variant": variant,
                     "GFLOP/iter": round(flops / 1e9, 2), "ms best": round(1e3 * best, 1),
                     "ms median": round(1e3 * med, 1), "GFLOP/s best": round(flops / best / 1e9, 1),
                     "% peak best": round(100 * share, 1), "% peak median": round(100 * flops / med / peak, 1),
                     "target": "ok" if share >= TARGET else "BELOW"})
        if args.profile == "all":
            below.append((width, layout, variant))
        elif args.profile == "below-target" and share < TARGET and share < worst.get((width, layout), (1.0,))[0]:
            worst[(width, layout)] = (share, variant)  # profile the worst cell of each width and layout
    if not args.no_mlp:
        mlp_rows(args, peak)
    below += [(width, layout, variant) for (width, layout), (_, variant) in worst.items()]
    C.print_table(rows, f"Fashion-MNIST DCGAN, batch 64, 1 thread, {args.iters} timed iterations per cell "
                        f"(target: best >= {100 * TARGET:.0f} % of peak)")
    for width, layout, variant in below:
        run, flops = cells[(width, layout, variant)]
        shares, tops = profile_cell(run)
        best = min(times[(width, layout, variant)])
        mm_share = shares.get("conv fwd", 0) + shares.get("conv bwd", 0) + shares.get("linear", 0)
        name = f"width {width}, {'channels_last' if layout else 'NCHW'}, {variant}"
        C.print_table([{"kind": k, "% self CPU": round(100 * v, 1)} for k, v in sorted(shares.items(), key=lambda kv: -kv[1])],
                      f"Profile of {name}: convs+matmuls alone run at "
                      f"{flops / (mm_share * best) / 1e9:.1f} GFLOP/s ({100 * flops / (mm_share * best) / peak:.0f} % of peak)")
        C.print_table(tops, f"Top ops of {name}")
    print(f"\n(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
