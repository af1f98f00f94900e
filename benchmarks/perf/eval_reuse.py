"""Evaluation reuse: what caching the real set's k-NN radii and building the
generator once per run save, each against recomputing, in the same run.

* radii     -- ``density_coverage`` and ``precision_recall`` of ``--fake``
               generated vs ``--real`` real feature vectors (the quick
               profile's 5,000 vs 10,000; Gaussian features of fmnist-cnn's
               width), recomputing the real radii (before) vs given the cached
               ones (after, ``real_radii=``). The results must be equal: the
               table says whether they are.
* generator -- per snapshot: build the quick DCGAN generator (width 32) and
               load a snapshot (before) vs load it into one built per run (after).

One torch thread, process CPU time, best of ``--repeats``. Ratios are after / before.
"""

from __future__ import annotations

import argparse
import time

import _common as C
import torch

from ganbench.metrics import fidelity

FEATURE_DIM = 128  # fmnist-cnn's feature layer


def best_time(fn, repeats: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


def radii_rows(n_fake: int, n_real: int, repeats: int) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    fake, real = torch.randn(n_fake, FEATURE_DIM, generator=g), torch.randn(n_real, FEATURE_DIM, generator=g) * 1.1
    rows = []
    for name, metric, radii in (("density/coverage", fidelity.density_coverage, fidelity.dc_radii),
                                ("precision/recall", fidelity.precision_recall, fidelity.prc_radii)):
        cached = radii(real)
        before, a = best_time(lambda: metric(fake, real), repeats)
        after, b = best_time(lambda: metric(fake, real, real_radii=cached), repeats)
        rows.append({"what": name, "before s": round(before, 2), "after s": round(after, 2),
                     "ratio": round(after / before, 3), "equal results": a == b})
    return rows


def generator_row(repeats: int) -> dict:
    from ganbench.datasets import load_dataset
    from ganbench.models import build_models

    info = load_dataset("fashion-mnist", "test").info
    state = build_models(info, width=32, z_dim=64, d_norm="batch")[0].state_dict()
    shared = build_models(info, width=32, z_dim=64, d_norm="batch")[0]
    before, _ = best_time(lambda: build_models(info, width=32, z_dim=64, d_norm="batch")[0].load_state_dict(state),
                          repeats)
    after, _ = best_time(lambda: shared.load_state_dict(state), repeats)
    return {"what": "generator per snapshot", "before s": round(before, 4), "after s": round(after, 4),
            "ratio": round(after / before, 3), "equal results": True}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fake", type=int, default=5000)
    p.add_argument("--real", type=int, default=10000)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    C.single_thread()
    print(C.machine_line())
    rows = radii_rows(args.fake, args.real, args.repeats) + [generator_row(max(args.repeats, 5))]
    C.print_table(rows, f"{args.fake} generated vs {args.real} real, 1 thread, CPU time, best of {args.repeats}; "
                        "ratio = after / before")
    print(f"\n(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
