"""GPU readiness: ganbench's trainer on CUDA with each combination of its GPU options.

What it measures: iterations per second of ganbench's real ``train()`` on
``device="cuda"`` for every combination of the RunConfig flags
``channels_last``, ``autocast_bf16`` and ``compile`` (8 combinations), for
the Fashion-MNIST DCGAN (width 64, batch 64 unless changed) and each variant
given (default vanilla and wgan-gp: wgan-gp's gradient penalty needs double
backward, which is where ``compile`` is most likely to break). ``it/s`` is the
steady rate after ``--warmup`` iterations (torch.compile and cuDNN autotuning
happen there and are reported as ``warm-up s``); the trainer synchronises
the device after every iteration. A combination that raises is reported as
failed with its error; nothing is retried or hidden.

Where CUDA is not available it prints "CUDA not available: skipped" and exits 0:
no GPU figure is ever printed that was not measured. ``--device cpu`` runs the
same sweep on the CPU (a dry run of the script; not GPU figures).

``--seed-groups`` adds seeds trained together (benchmarks/perf/seed_groups.py)
on the device: the quick 2-D MLP step of every variant for 10 seeds grouped and
one after another, the DCGAN the same way, and PacGAN's ``paper`` entry (10
seeds of PacGAN2: simultaneous update, batch norm per pack slot, fixed packs).

Target: none yet; every combination should run, and the table says which
options pay off on the device at hand.
"""

from __future__ import annotations

import argparse
import itertools
import sys

import _common as C
import torch

FLAGS = ("channels_last", "autocast_bf16", "compile")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda", help="cuda (default) or cpu for a dry run of the script")
    p.add_argument("--variants", nargs="+", default=["vanilla", "wgan-gp"], choices=C.VARIANT_NAMES)
    p.add_argument("--dataset", default="fashion-mnist", choices=C.DATASET_NAMES)
    p.add_argument("--quick", action="store_true", help="20 iterations per run, 5 of them warm-up")
    p.add_argument("--iters", type=int, default=None, help="iterations per run (default 60, quick 20)")
    p.add_argument("--warmup", type=int, default=None, help="iterations excluded from it/s (default 10, quick 5)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=int, default=None, help="model width (default: the data kind's)")
    p.add_argument("--sweep", nargs="+", default=list(FLAGS), choices=FLAGS, help="flags to combine (default all)")
    p.add_argument("--seed-groups", action="store_true", help="also time seeds grouped and one after another")
    args = p.parse_args()
    args.iters = args.iters or (20 if args.quick else 60)
    args.warmup = args.warmup if args.warmup is not None else (5 if args.quick else 10)
    if args.warmup >= args.iters:
        p.error("--warmup must be smaller than --iters")
    return args


def measure(variant: str, flags: dict, args) -> dict:
    config = C.run_config(variant, args.dataset, iterations=args.iters, device=args.device,
                          batch_size=args.batch_size, width=args.width, **flags)
    row = {"variant": variant, **{k: "on" if v else "-" for k, v in flags.items()}}
    try:
        record, timing = C.timed_train(config)
    except Exception as exc:  # report every failure as measured, with its cause
        return {**row, "it/s": "-", "warm-up s": "-", "status": f"FAILED: {type(exc).__name__}: {str(exc)[:80]}"}
    if record["status"] != "finished" or timing.iterations <= args.warmup:
        return {**row, "it/s": "-", "warm-up s": "-", "status": f"{record['status']} after {timing.iterations} it"}
    return {**row, "it/s": round(timing.steady_rate(args.warmup), 2),
            "warm-up s": round(timing.starts[args.warmup] - timing.starts[0], 2), "status": "finished"}


def main() -> None:
    args = parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA not available: skipped")
        sys.exit(0)
    if args.device == "cpu":
        C.single_thread()
    name = torch.cuda.get_device_name(torch.device(args.device)) if args.device.startswith("cuda") else "CPU (dry run)"
    print(f"{C.machine_line()}; device {args.device}: {name}")
    rows = []
    for variant in args.variants:
        for values in itertools.product((False, True), repeat=len(args.sweep)):
            flags = dict(zip(args.sweep, values))
            rows.append(measure(variant, flags, args))
            print(f"  measured {variant} {flags}", flush=True)
    C.print_table(rows, f"{args.dataset}, batch {args.batch_size}, {args.iters} iterations per run, "
                        f"it/s after {args.warmup} warm-up iterations, on {name}")
    if args.seed_groups:
        import seed_groups

        repeats = 2 if args.quick else 5
        cells = [(v, "mlp") for v in seed_groups.VARIANTS.names()] + [(v, "dcgan") for v in args.variants]
        rows = [seed_groups.measure(v, model, 10, repeats, args.device) for v, model in cells]
        rows.append(seed_groups.measure("vanilla", "pacgan-paper", 10, repeats, args.device))
        C.print_table(rows, f"10 seeds grouped and one after another, seconds per iteration (median of {repeats}), "
                            f"on {name}")


if __name__ == "__main__":
    main()
