"""Training-step levers on CPU, each against the default in the same run:

* adam           -- Adam's for-loop implementation (torch's CPU default, ganbench's before) vs
                    ``foreach=True`` vs ``fused=True`` (ganbench's default, ``variants.base.ADAM_IMPL``);
* channels_last  -- NCHW vs ``channels_last=True`` (DCGAN only; the MLP has no layout);
* compile        -- eager vs ``torch.compile`` (inductor's C++ kernels), as
                    ``train()`` applies it (``trainer.compile_models``). Compile
                    time ("one-off s") is the warm-up's CPU time in excess of the steady
                    step; "quick run" charges it once to the quick profile's iteration
                    count. The C++ compiler runs in subprocesses, outside this process's
                    CPU time: "warm-up wall s" is the warm-up's wall time, which has it.

Cells: ganbench's real ``train_iteration`` on the quick configs, seed 0, one
torch thread: the Fashion-MNIST DCGAN (vanilla, width 32, batch 64) and the
ring8 MLP (vanilla, width 128, batch 256). Steps are timed in process CPU time
(immune to other processes holding the shared cores), round-robin over the
cells of a lever, median kept. ``same bits`` says whether a fresh run with the
lever ends, after ``--check`` iterations, with the default's generator bit for
bit; ``repeatable`` whether two fresh runs with it agree with each other.
Ratios are lever / default (< 1: faster).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import _common as C
import torch

from ganbench.training.trainer import build_run, compile_models, train_iteration

MODELS = {"dcgan": "fashion-mnist", "mlp": "ring8"}


def adam(impl: str):
    """Rebuild a run's optimisers with Adam's ``impl`` ("for-loop", "foreach", "fused")."""
    flags = {"for-loop": {"foreach": False}, "foreach": {"foreach": True}, "fused": {"fused": True}}[impl]

    def apply(run):
        for name in ("opt_g", "opt_d"):
            group = getattr(run, name).param_groups[0]
            hyper = {k: group[k] for k in ("lr", "betas", "eps", "weight_decay")}
            setattr(run, name, torch.optim.Adam(group["params"], **hyper, **flags))
        return run
    return apply


def cells(lever: str, model: str) -> dict:
    """name -> (config overrides, function applied to the built run); the first is the default."""
    if lever == "adam":
        return {impl: ({}, adam(impl)) for impl in ("for-loop", "foreach", "fused")}
    if lever == "channels_last":
        return {"NCHW": ({}, None), "channels_last": ({"channels_last": True}, None)}
    return {"eager": ({}, None), "compiled": ({}, lambda run: compile_models(run) or run)}


def build(model: str, overrides: dict, apply):
    data = C.load(MODELS[model])
    config = C.resolved(replace(C.profile_config("vanilla", MODELS[model], "quick"), **overrides), data)
    run = build_run(config, data)
    return apply(run) if apply else run


def quick_iterations(model: str) -> int:
    """Iterations of the quick profile's run (its FLOP budget / FLOPs per iteration)."""
    config = C.profile_config("vanilla", MODELS[model], "quick")
    flops, _ = C.iteration_flops(config, C.load(MODELS[model]))
    return int(config.budget.limit // flops)


def generator_after(model: str, overrides: dict, apply, iters: int) -> dict:
    run = build(model, overrides, apply)
    for _ in range(iters):
        train_iteration(run)
    return {k: v.detach().clone() for k, v in getattr(run.generator, "_orig_mod", run.generator).state_dict().items()}


def time_lever(lever: str, model: str, iters: int, warmup: int) -> dict:
    """Per cell: warm-up CPU seconds and steady per-iteration CPU seconds (median)."""
    runs = {name: build(model, *spec) for name, spec in cells(lever, model).items()}
    out = {name: {"warmup": 0.0, "warmup wall": 0.0, "steps": []} for name in runs}
    for name, run in runs.items():
        start, wall = time.process_time(), time.perf_counter()
        for _ in range(warmup):
            train_iteration(run)
        out[name]["warmup"] = time.process_time() - start
        out[name]["warmup wall"] = time.perf_counter() - wall  # inductor's C++ compiler runs in subprocesses
    for _ in range(iters):
        for name, run in runs.items():
            start = time.process_time()
            train_iteration(run)
            out[name]["steps"].append(time.process_time() - start)
    return out


def lever_rows(lever: str, model: str, args) -> list[dict]:
    specs = cells(lever, model)
    timed = time_lever(lever, model, args.iters, args.warmup)
    default = next(iter(specs))
    base_step = C.median(timed[default]["steps"])
    base_state = generator_after(model, *specs[default], args.check)
    n_quick = quick_iterations(model)
    rows = []
    for name, spec in specs.items():
        step = C.median(timed[name]["steps"])
        one_off = max(0.0, timed[name]["warmup"] - args.warmup * step)
        state = generator_after(model, *spec, args.check) if name != default else base_state
        again = generator_after(model, *spec, args.check)
        rows.append({"lever": lever, "model": model, "setting": name, "ms/step": round(1e3 * step, 2),
                     "step ratio": round(step / base_step, 3), "one-off s": round(one_off, 1),
                     "warm-up wall s": round(timed[name]["warmup wall"], 1),
                     "quick its": n_quick, "quick run ratio": round((one_off + n_quick * step) / (n_quick * base_step), 3),
                     "same bits": C.same_tensors(state, base_state), "repeatable": C.same_tensors(state, again)})
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--levers", nargs="+", default=["adam", "channels_last", "compile"],
                   choices=("adam", "channels_last", "compile"))
    p.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--iters", type=int, default=30, help="timed iterations per cell (round-robin)")
    p.add_argument("--warmup", type=int, default=3, help="untimed-for-the-median first iterations (compile happens here)")
    p.add_argument("--check", type=int, default=5, help="iterations of the bit-for-bit comparison runs")
    args = p.parse_args()
    C.single_thread()
    print(C.machine_line())
    rows = []
    for lever in args.levers:
        for model in args.models:
            if lever == "channels_last" and model == "mlp":
                continue
            rows += lever_rows(lever, model, args)
    C.print_table(rows, f"train_iteration, 1 thread, CPU time, median of {args.iters} round-robin steps; "
                        "ratio = setting / first setting of its lever")
    print(f"\n(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
