"""Evaluation throughput: ``ganbench.metrics.score_images`` on Fashion-MNIST.

What it measures, on one CPU thread (the suite's per-worker policy): wall time
and generated images per second of ``score_images(fake, "fashion-mnist", ...)``
for each metric group (fid, is, kid, precision_recall, density_coverage,
modes, ndb) and for all of them in one call, each

* cold -- a fresh, empty feature cache (``$GANBENCH_CACHE``): real-data
          features / statistics / NDB bins are computed, as on a first run;
* warm -- the same call again: the real side comes from the cache, as for
          every later snapshot of every run.

Generated images come from ganbench's DCGAN generator (untrained, fixed seed)
through ``ganbench.training.samples.generate`` and ``to_uint8``; their generation is
not timed. Default sizes follow the protocol: 10,000 generated images against
the 10,000-image test split (``IMAGE_SAMPLES``); ``--quick`` uses 2,000 / 2,000.
Inception-based FID is timed only when its weights are at hand
(``--inception-weights`` or torch's hub cache); Inception is slow on CPU
(about 5 images/s), so it scores ``--inception-n`` images.

A metric group that cannot run (e.g. the fmnist-cnn weights are not shipped
yet) is reported as skipped with ganbench's own error message.

Target: none is set for evaluation; the table gives the cost per snapshot
so a suite's evaluation time can be planned (snapshots x runs x warm seconds).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import _common as C
import torch

from ganbench.datasets import to_uint8
from ganbench.metrics import IMAGE_METRICS, IMAGE_SAMPLES, MetricError, score_images
from ganbench.models import build_models
from ganbench.training.samples import generate


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2,000 generated and 2,000 real images")
    p.add_argument("--n-fake", type=int, default=None, help=f"generated images (default {IMAGE_SAMPLES}, quick 2000)")
    p.add_argument("--n-real", type=int, default=None, help=f"real test images (default {IMAGE_SAMPLES}, quick 2000)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as each suite worker)")
    p.add_argument("--inception-weights", default=None, help="Inception-v3 weights file (pt_inception-2015-12-05)")
    p.add_argument("--inception-n", type=int, default=200, help="images (generated and real) for Inception FID")
    args = p.parse_args()
    args.n_fake = args.n_fake or (2000 if args.quick else IMAGE_SAMPLES)
    args.n_real = args.n_real or (2000 if args.quick else IMAGE_SAMPLES)
    return args


def fake_images(n: int) -> torch.Tensor:
    """n uint8 images from ganbench's Fashion-MNIST generator (untrained, seed 0)."""
    info = C.load("fashion-mnist").info
    torch.manual_seed(0)
    generator, _ = build_models(info, width=64, z_dim=64, d_norm="batch")
    return to_uint8(generate(generator, n, 64, seed=0))


def timed(fake, metrics, n_real, **kwargs) -> tuple[float, dict]:
    start = time.perf_counter()
    out = score_images(fake, "fashion-mnist", metrics=metrics, n_real=n_real, **kwargs)
    return time.perf_counter() - start, out


def measure(label: str, fake, metrics, n_real, **kwargs) -> list[dict]:
    """Cold (empty cache) and warm (cached real side) rows for one call of score_images."""
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GANBENCH_CACHE"] = cache
        for state in ("cold", "warm"):
            row = {"metrics": label, "cache": state, "n fake": len(fake), "n real": n_real}
            try:
                seconds, out = timed(fake, metrics, n_real, **kwargs)
                row.update({"seconds": round(seconds, 2), "fake images/s": round(len(fake) / seconds, 1),
                            "keys": len(out), "status": "ok"})
            except (MetricError, FileNotFoundError) as exc:  # FileNotFoundError: missing shipped weights
                reason = f"missing {os.path.basename(exc.filename)}" if isinstance(exc, FileNotFoundError) else str(exc)
                row.update({"seconds": "-", "fake images/s": "-", "keys": 0, "status": f"skipped ({reason[:90]})"})
                rows.append(row)
                break  # a warm retry of a failing call says nothing new
            rows.append(row)
    return rows


def inception_weights(path):
    """The Inception weights file to use, or None (never downloads)."""
    if path:
        return path
    from ganbench.extractors.inception import hub_weights_path

    return str(hub_weights_path()) if hub_weights_path().is_file() else None


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(C.machine_line())
    saved_cache = os.environ.get("GANBENCH_CACHE")
    fake = fake_images(args.n_fake)
    rows = []
    try:
        for group in IMAGE_METRICS:
            rows += measure(group, fake, [group], args.n_real)
            print(f"  measured {group}", flush=True)
        rows += measure("all (default)", fake, None, args.n_real)
        weights = inception_weights(args.inception_weights)
        n = args.inception_n
        if weights:
            rows += measure("fid (Inception)", fake[:n], ["fid"], n, extractor="inception-v3-compat",
                            inception_weights=weights)
        else:
            rows.append({"metrics": "fid (Inception)", "cache": "-", "n fake": n, "n real": n, "seconds": "-",
                         "fake images/s": "-", "keys": 0,
                         "status": "skipped (no Inception weights; pass --inception-weights)"})
    finally:
        if saved_cache is None:
            os.environ.pop("GANBENCH_CACHE", None)
        else:
            os.environ["GANBENCH_CACHE"] = saved_cache
    C.print_table(rows, f"score_images on fashion-mnist, {args.threads} torch thread(s)")
    print(f"\n(after: {C.machine_line()})")


if __name__ == "__main__":
    main()
