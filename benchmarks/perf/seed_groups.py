"""Seeds trained together (training/group.py) against the same seeds one after another.

For each variant and model (one CPU thread, process CPU time; or on a GPU, wall
time with the device synchronised, ``--device cuda``): the seconds of one
training iteration of ``--seeds`` runs stepped one after another (the trainer's
``train_iteration``, each run on its own) and of the same runs as one
``SeedGroup`` (``SeedGroup.iteration``), timed alternately; the speed-up is
single / grouped, medians over ``--repeats`` rounds. Models: the quick ring8
and grid25 MLP (batch 256, the default width), PacGAN's 400-wide MLP, the
quick Fashion-MNIST DCGAN (width 32), and PacGAN's ``paper`` entry (PacGAN2:
its networks, simultaneous update, per-slot generator calls and fixed packs).
The suite groups seeds by default where this measures a speed-up
(``ganbench.suite.grouping``). A setting grouped training cannot train (e.g.
a spectral-normed critic under a gradient penalty) is printed as such, with the reason.
benchmarks/perf/gpu_readiness.py ``--seed-groups`` runs the same measurement on the GPU.

    python benchmarks/perf/seed_groups.py [--quick] [--models mlp dcgan] [--variants vanilla wgan-gp]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common as C
import torch

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training.checkpoint import rng_state
from ganbench.training.group import SeedGroup, check_groupable
from ganbench.training.trainer import build_run, train_iteration
from ganbench.variants import VARIANTS

MODELS = {  # name: (dataset, RunConfig overrides)
    "mlp": ("ring8", {"batch_size": 256}),
    "mlp-400": ("ring8", {"batch_size": 100, "width": 400}),
    "dcgan": ("fashion-mnist", {"batch_size": 64, "width": 32}),
    "pacgan-paper": ("ring8", {"batch_size": 100, "z_dim": 2, "g_width": 400, "g_depth": 4, "g_batch_norm": True,
                               "d_width": 200, "d_depth": 3, "d_maxout_pieces": 5, "pack": 2, "update": "simultaneous",
                               "g_per_slot": True, "real_packs": "fixed", "n_critic": 1}),
}


def build(variant: str, model: str, seeds: int, device: str = "cpu"):
    """The runs of ``seeds`` seeds and their group, or (runs, reason) when it cannot be grouped."""
    dataset, overrides = MODELS[model]
    data = load_dataset(dataset, "train")
    configs = [resolve(RunConfig(variant, dataset, s, Budget("flops", 1e30), device=device, **overrides),
                       data.info.kind) for s in range(seeds)]
    runs, states = [], []
    for cfg in configs:
        runs.append(build_run(cfg, data))
        states.append(rng_state(runs[-1].device))
    try:
        check_groupable(configs, [runs[0].generator, runs[0].critic])
    except Exception as exc:  # e.g. spectral norm under a gradient penalty
        return runs, str(exc).split(": ", 1)[-1]
    grouped = SeedGroup([build_run(cfg, data) for cfg in configs], states)
    return runs, grouped


def seconds(fn, device: str) -> float:
    """CPU time of ``fn()`` on the CPU; wall time with the device synchronised on a GPU."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        return time.perf_counter() - start
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure(variant: str, model: str, seeds: int, repeats: int, device: str = "cpu") -> dict:
    """One row: median seconds per iteration of all seeds, alone and grouped, and the speed-up."""
    runs, grouped = build(variant, model, seeds, device)
    row = {"model": model, "variant": variant}
    if isinstance(grouped, str):
        return {**row, "single s": "-", "grouped s": "-", "speed-up": f"not grouped: {grouped}"}
    n_critic = runs[0].config.n_critic
    one = lambda: [train_iteration(run, n_critic) for run in runs]  # noqa: E731
    together = lambda: grouped.iteration(n_critic)  # noqa: E731
    one(), together()  # warm-up
    single, group = [], []
    for _ in range(repeats):  # alternately, so a load change hits both
        single.append(seconds(one, device))
        group.append(seconds(together, device))
    s, g = statistics.median(single), statistics.median(group)
    return {**row, "single s": round(s, 4), "grouped s": round(g, 4), "speed-up": f"{s / g:.2f}x"}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer rounds (~1 min)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5, quick 2)")
    p.add_argument("--models", nargs="+", default=["mlp", "mlp-400", "dcgan"], choices=list(MODELS))
    p.add_argument("--variants", nargs="+", default=VARIANTS.names(), choices=VARIANTS.names())
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    return args


def main() -> None:
    args = parse_args()
    if args.device == "cpu":
        C.single_thread()
    rows = []
    for model in args.models:
        for variant in args.variants:
            rows.append(measure(variant, model, args.seeds, args.repeats, args.device))
            print(f"  measured {model} {variant}", flush=True)
    C.print_table(rows, f"{args.seeds} seeds on {args.device}, seconds per iteration of all seeds "
                        f"(median of {args.repeats})")


if __name__ == "__main__":
    main()
