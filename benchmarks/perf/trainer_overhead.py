"""Trainer overhead: ganbench's real ``train()`` versus a bare PyTorch loop.

What it measures: for every variant on ``ring8`` and ``fashion-mnist``, with
the settings of a benchmark profile (default ``quick``, what ``ganbench run``
trains: ring8 batch 256 width 128, fashion-mnist DCGAN width 32 batch 64),
iterations per second (one iteration = n_critic critic steps + one generator
step) of

* bare     -- a plain loop in ``_common.bare_loop`` doing the same math: same
              models (``build_models``), Adam settings, batch draw, n_critic,
              variant losses and random-number order;
* ganbench -- ``ganbench.training.trainer.train`` itself, stopped by ``max_g_steps``,
              with its real FLOP-budget accounting, loss logging, divergence
              checks, progress bookkeeping, snapshots and periodic checkpoints.

The two are run alternately in one process (bare, ganbench, ganbench, bare ...);
the rates are medians of the repeats and ``ratio`` is the median of the
ganbench/bare ratios of adjacent pairs. ``ganbench it/s`` is the training loop's
rate: from the first iteration to leaving the loop, with the snapshot writes
(a fixed number per run, whatever its length) taken out and counted, with setup
(data loading, FLOP counting, first record) and the final samples and
checkpoint, in ``one-off s``.

Diagnostics: ``ratio CPU`` is the same ratio on process CPU time, which does
not run while other processes hold the shared cores (but leaves out I/O waits
such as checkpoint fsyncs); ``outside step %`` is the share of ganbench's loop
spent outside ``train_iteration`` in the same run (accounting, logging,
checkpoints), free of A/B noise; ``ckpt ms`` is one in-loop checkpoint (every
``checkpoint_every`` G steps; "-" when the run is shorter); ``e2e @budget`` is
ganbench/bare for a whole run of the profile's budget, one-off costs included
(N = iterations the budget allows: (N / bare it/s) / (N / ganbench it/s +
one-off s), median over the pairs); ``same G`` says whether both loops ended
with bit-identical generator weights, i.e. that they really did the same math.

Target: ratio >= 0.95 for every variant and dataset.
Runtime: about 2-3 minutes on a quiet 2-core machine; ``--quick`` about 30 s.
"""

from __future__ import annotations

import argparse

import _common as C


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="~30 s: fewer iterations and a single repeat")
    p.add_argument("--profile", choices=C.PROFILE_CHOICES, default="quick",
                   help="benchmark profile whose settings are used (default quick; 'defaults': RunConfig defaults)")
    p.add_argument("--repeats", type=int, default=None, help="A/B pairs per cell (default 3, quick 1)")
    p.add_argument("--ring8-iters", type=int, default=None, help="iterations per ring8 run (default 200, quick 60)")
    p.add_argument("--image-iters", type=int, default=None, help="iterations per fashion-mnist run (default 20, quick 3)")
    p.add_argument("--variants", nargs="+", default=list(C.VARIANT_NAMES), choices=C.VARIANT_NAMES)
    p.add_argument("--datasets", nargs="+", default=list(C.DATASET_NAMES), choices=C.DATASET_NAMES)
    args = p.parse_args()
    args.repeats = args.repeats or (1 if args.quick else 3)
    args.ring8_iters = args.ring8_iters or (60 if args.quick else 200)
    args.image_iters = args.image_iters or (3 if args.quick else 20)
    return args


def measure_cell(profile_run, data, iterations: int, repeats: int) -> dict:
    """Alternate bare and ganbench runs of one (variant, dataset) cell."""
    config = C.capped(profile_run, iterations)
    C.bare_loop(config, data, 1)  # warm-up: oneDNN/MKL kernel selection for these shapes
    bare, ours, cpu_ratio, one_off, outside, ckpt, same = [], [], [], [], [], [], True
    for r in range(repeats):
        for which in (("bare", "ganbench") if r % 2 == 0 else ("ganbench", "bare")):
            if which == "bare":
                result = C.bare_loop(config, data, iterations)
                bare.append(iterations / result.seconds)
                bare_cpu, bare_g = result.cpu_seconds, result.generator_state
            else:
                record, timing = C.timed_train(config)
                ours.append(timing.iterations / timing.loop_seconds())
                ours_cpu, ours_g, status = timing.loop_seconds(cpu=True), record["_final_generator"], record["status"]
                one_off.append(timing.one_off_seconds())
                outside.append(timing.machinery_fraction())
                ckpt += timing.checkpoint_seconds
        same = same and C.same_tensors(bare_g, ours_g)
        cpu_ratio.append(bare_cpu / ours_cpu)
    b, o, fixed = C.median(bare), C.median(ours), C.median(one_off)
    row = {"dataset": config.dataset, "variant": config.variant, "iters": iterations,
           "bare it/s": round(b, 2), "ganbench it/s": round(o, 2),
           "ratio": round(C.median([x / y for x, y in zip(ours, bare)]), 3),  # adjacent pairs: cancels load drift
           "ratio CPU": round(C.median(cpu_ratio), 3), "outside step %": round(100 * C.median(outside), 2),
           "ckpt ms": round(1e3 * C.median(ckpt), 1) if ckpt else "-", "one-off s": round(fixed, 2)}
    if profile_run.budget.limit < C.HUGE_FLOPS:
        n = profile_run.budget.limit // C.iteration_flops(profile_run, data)[0]
        row["e2e @budget"] = round(C.median([(n / y) / (n / x + f) for x, y, f in zip(ours, bare, one_off)]), 3)
    row["same G"] = "yes" if same else f"NO ({status})"
    return row


def main() -> None:
    args = parse_args()
    C.single_thread()
    print(C.machine_line())
    rows = []
    for dataset in args.datasets:
        data = C.load(dataset)
        iterations = args.ring8_iters if dataset == "ring8" else args.image_iters
        for variant in args.variants:
            rows.append(measure_cell(C.profile_config(variant, dataset, args.profile), data, iterations, args.repeats))
            print(f"  measured {dataset} / {variant}", flush=True)
    C.print_table(rows, f"Trainer overhead, profile {args.profile!r}: median of {args.repeats} alternating "
                        f"pair(s) per cell, 1 torch thread (target: ratio >= 0.95)")
    worst = min(rows, key=lambda r: r["ratio"])
    print(f"\nlowest ratio {worst['ratio']:.3f} ({worst['dataset']} / {worst['variant']}); "
          f"{sum(r['ratio'] >= 0.95 for r in rows)}/{len(rows)} cells meet the target")
    print(f"(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
