"""Real-data rows: a benchmark's metrics on real samples that were not the reference.

Every number in a result table needs its floor (FID, KL) or ceiling (modes,
precision): what the real distribution itself scores under the same protocol.

- 2-D mixtures: ``n_samples`` (2,500) points drawn fresh from the mixture (a
  seed neither the train nor the test split uses), scored like a generator's.
- Images: ``n_samples`` train images (a fixed seeded subset) scored against
  the test split exactly as generated images are (same ``n_real``, extractor).

The suite computes one record per benchmark and profile into
``OUT/runs/<benchmark>/real-data.json`` (:func:`ensure_real_data`), so the
report stays a pure function of stored records. No training is involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from ganbench.core.errors import GanbenchError
from ganbench.core.io import atomic_write_json

REAL_DATA_NAME = "real-data.json"
DECLARED_NAME = "benchmark.json"  # what the benchmark file declares for the report
REAL_SCHEMA = 1
# Mixture split seeds are train 0 / test 1 (datasets/mixtures.py); 2 is a third,
# independent draw. The image subset seed only has to be fixed.
FRESH_SEED = 2


def real_data_path(out: Path, benchmark: str) -> Path:
    """Where a benchmark's real-data record lives under a results directory."""
    return Path(out) / "runs" / benchmark / REAL_DATA_NAME


def real_samples(dataset: str, n: int, data_dir: Optional[str] = None):
    """``n`` real samples not used as the reference: fresh mixture points, or train images."""
    import torch  # here: the report reads this module's file names and needs no torch

    from ganbench.datasets import load_dataset
    from ganbench.datasets.mixtures import sample_mixture

    split = load_dataset(dataset, "train", data_dir)
    info = split.info
    generator = torch.Generator().manual_seed(FRESH_SEED)
    if info.kind == "points":
        return sample_mixture(info.centers, info.std, n, generator)[0], info
    if not 0 < n <= len(split):
        raise GanbenchError(f"real-data row: {dataset} train split has {len(split)} images, {n} asked for "
                            "(eval.n_samples); lower eval.n_samples" + (", or add images to the folder"
                                                                       if info.cache_id else ""))
    idx = torch.randperm(len(split), generator=generator)[:n].sort().values
    return split.data[idx], info


def compute_real_data(benchmark, profile: str, data_dir: Optional[str] = None) -> dict:
    """The real-data record of ``benchmark`` (a ``BenchmarkConfig``) at ``profile``."""
    from ganbench.metrics import score_images, score_points

    e = benchmark.profile(profile).eval
    n = e.n_samples
    real, info = real_samples(benchmark.dataset, n, data_dir)
    if info.kind == "points":
        metrics, what = score_points(real, info), f"{n} points drawn fresh from the mixture (seed {FRESH_SEED})"
    else:
        kwargs = {"n_real": e.n_real, "data_dir": data_dir}
        if e.extractor:
            kwargs["extractor"] = e.extractor
        metrics = score_images(real, benchmark.dataset, **kwargs)
        what = f"{n} train images (seeded subset) against {e.n_real or 'all'} test images"
    found = {"schema": REAL_SCHEMA, "kind": "real-data", "benchmark": benchmark.name,
             "dataset": benchmark.dataset, "profile": profile, "what": what,
             "eval": {"n_samples": n, "n_real": e.n_real, "extractor": e.extractor},
             "metrics": metrics}
    if info.cache_id:  # an image folder: which content the row was scored on (see ensure_real_data)
        found["data"] = _folder_source(benchmark.dataset, data_dir)
    return found


def _folder_source(dataset: str, data_dir) -> dict:
    from ganbench.datasets import load_dataset  # memoised: the folder is read once per process

    source = load_dataset(dataset, "test", data_dir).source
    return {"sha256": source["sha256"], "path": source["path"]}


def declared(benchmark, profile: str, expected_runs=None) -> dict:
    """What the report needs from a benchmark file: baseline, variants, target (the
    budget and seeds are in each run's record) and, from a suite, the run ids it
    planned (``expected_runs``), so a report made mid-suite names the missing ones."""
    found = {"schema": REAL_SCHEMA, "benchmark": benchmark.name, "dataset": benchmark.dataset,
             "profile": profile, "baseline": benchmark.baseline, "variants": benchmark.variant_names(),
             "target": benchmark.target, "target_note": benchmark.target_note}
    return found if expected_runs is None else {**found, "expected_runs": sorted(expected_runs)}


def declare(benchmarks, profile: str, out: Path, expected: Optional[dict] = None) -> None:
    """Write each benchmark's ``benchmark.json``; ``expected``: benchmark -> planned run ids."""
    for bench in benchmarks:
        if profile in bench.profiles:
            atomic_write_json(Path(out) / "runs" / bench.name / DECLARED_NAME,
                              declared(bench, profile, (expected or {}).get(bench.name)))


def ensure_real_data(benchmarks, profile: str, out: Path, data_dir: Optional[str] = None,
                     expected: Optional[dict] = None) -> list[Path]:
    """Write each benchmark's declarations (``benchmark.json``, see :func:`declare`) and
    its real-data record, the latter unless one for the same evaluation settings exists."""
    declare(benchmarks, profile, out, expected)
    written = []
    for bench in benchmarks:
        if profile not in bench.profiles:
            continue
        path = real_data_path(out, bench.name)
        e = bench.profile(profile).eval
        wanted = {"n_samples": e.n_samples, "n_real": e.n_real, "extractor": e.extractor}
        try:
            found = json.loads(path.read_text())
        except (OSError, ValueError):
            found = None
        if isinstance(found, dict) and found.get("eval") == wanted:
            if isinstance(found.get("data"), dict):  # scored on an image folder: is it still the same?
                from ganbench.datasets import load_dataset
                from ganbench.datasets.imagefolder import check_unchanged

                check_unchanged(found["data"], load_dataset(bench.dataset, "test", data_dir),
                                f"real-data row {path}")
            continue
        atomic_write_json(path, compute_real_data(bench, profile, data_dir))
        written.append(path)
    return written
