"""Seeds trained together (training/group.py) against the same seeds one after another.

For each variant and model, one CPU thread, process CPU time: the seconds of one
training iteration of ``--seeds`` runs stepped one after another (the trainer's
``train_iteration``, each run on its own) and of the same runs as one
``SeedGroup`` (``SeedGroup.iteration``), timed alternately; the speed-up is
single / grouped, medians over ``--repeats`` rounds. Models: the quick ring8
and grid25 MLP (batch 256, the default width), PacGAN's 400-wide MLP, and the
quick Fashion-MNIST DCGAN (width 32). The suite groups seeds by default
where this measures a speed-up (``ganbench.suite.tasks.GROUP_BY_DEFAULT``).

    python benchmarks/perf/seed_groups.py [--quick] [--models mlp dcgan] [--variants vanilla wgan-gp]
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common as C

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training import streams
from ganbench.training.group import SeedGroup, check_groupable
from ganbench.training.trainer import build_run, train_iteration
from ganbench.variants import VARIANTS

MODELS = {  # name: (dataset, RunConfig overrides)
    "mlp": ("ring8", {"batch_size": 256}),
    "mlp-400": ("ring8", {"batch_size": 100, "width": 400}),
    "dcgan": ("fashion-mnist", {"batch_size": 64, "width": 32}),
}


def build(variant: str, model: str, seeds: int):
    """The runs of ``seeds`` seeds and their group, or (runs, reason) when it cannot be grouped."""
    dataset, overrides = MODELS[model]
    data = load_dataset(dataset, "train")
    configs = [resolve(RunConfig(variant, dataset, s, Budget("flops", 1e30), **overrides), data.info.kind)
               for s in range(seeds)]
    runs, states = [], []
    for cfg in configs:
        runs.append(build_run(cfg, data))
        states.append(streams.global_state(runs[-1].device))
    try:
        check_groupable(configs, [runs[0].generator, runs[0].critic])
    except Exception as exc:  # e.g. spectral norm's buffers
        return runs, str(exc).split(": ", 1)[-1]
    grouped = SeedGroup([build_run(cfg, data) for cfg in configs], states)
    return runs, grouped


def cpu_seconds(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer rounds (~1 min)")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 5, quick 2)")
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--variants", nargs="+", default=VARIANTS.names(), choices=VARIANTS.names())
    args = p.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    C.single_thread()
    print(f"{args.seeds} seeds, 1 thread, CPU seconds per iteration of all seeds (median of {repeats})")
    print(f"{'model':8} {'variant':15} {'single':>9} {'grouped':>9} {'speed-up':>9}")
    for model in args.models:
        for variant in args.variants:
            runs, grouped = build(variant, model, args.seeds)
            if isinstance(grouped, str):
                print(f"{model:8} {variant:15} {'':>9} {'':>9}   not grouped: {grouped}")
                continue
            n_critic = runs[0].config.n_critic
            one = lambda: [train_iteration(run, n_critic) for run in runs]  # noqa: E731
            together = lambda: grouped.iteration(n_critic)  # noqa: E731
            one(), together()  # warm-up
            single, group = [], []
            for _ in range(repeats):
                single.append(cpu_seconds(one))
                group.append(cpu_seconds(together))
            s, g = statistics.median(single), statistics.median(group)
            print(f"{model:8} {variant:15} {s:9.4f} {g:9.4f} {s / g:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
