"""Score a run's snapshots and write the metrics into its record.

Feature extraction and the metrics themselves live in :mod:`ganbench.metrics`;
this module only turns a run directory into samples and back into a record:
load each snapshot's generator, draw a fixed noise stream, score, write the
record atomically after every snapshot (a killed evaluation keeps its work).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Optional

from tqdm import tqdm

from ganbench.config.run import RunConfig
from ganbench.core.errors import GanbenchError
from ganbench.core.io import safe_torch_load
from ganbench.core.mapping import from_mapping
from ganbench.core.record import FINAL_STATUSES, read_record, write_record
from ganbench.datasets import load_dataset, to_uint8
from ganbench.models import build_models
from ganbench.training.samples import POINT_SAMPLES, generate_for

DEFAULT_IMAGE_SAMPLES = 10_000  # Lucic et al. 2018: 10k generated vs 10k test images
# Intermediate snapshots feed the metric-versus-compute curves, so they get the
# cheap curve metrics; the final snapshot gets every metric (KID's 100 subsets
# and precision/recall's k-NN dominate scoring time on a CPU).
CURVE_METRICS = ("fid", "is", "modes")
#: The keys of the metric groups that name no extractor (what a forced re-score replaces).
UNNAMED_KEYS = {"modes": ("classes_covered", "class_kl", "modes", "reverse_kl"), "ndb": ("ndb", "jsd")}


def evaluate_run(
    run_dir: Path,
    *,
    n_samples: Optional[int] = None,
    n_real: Optional[int] = None,
    extractor: Optional[str] = None,
    snapshots: str = "all",
    inception_weights: Optional[str] = None,
    extractor_weights: Optional[str] = None,
    force: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """Score the snapshots of a finished run (``snapshots`` = "all" or "last").

    Already-scored snapshots are skipped unless ``force``. A snapshot scored
    before, asked for with an ``extractor`` it has no numbers from, gets that
    extractor's feature metrics added: the keys name the extractor
    (``fid/inception-v3-compat``, ``fd/dinov2-vit-l-14``), so both sets of
    numbers stay in the record, apart. ``extractor_weights``: the extractor's
    weights file (``inception_weights``: Inception's).
    """
    run_dir = Path(run_dir)
    record = read_record(run_dir)
    if record["status"] not in FINAL_STATUSES:
        raise GanbenchError(f"{run_dir}: run is {record['status']}; finish it (ganbench train / run) before scoring")
    if not record["snapshots"]:
        raise GanbenchError(f"{run_dir}: run has no snapshots to score (it diverged before its first budget fraction)")
    config = from_mapping(RunConfig, record["config"], f"{run_dir}/record.json config")
    test = load_dataset(config.dataset, "test", config.data_dir)
    info = test.info
    if info.cache_id:  # an image folder: its files may have changed since training
        from ganbench.datasets.imagefolder import check_unchanged

        check_unchanged(record.get("data") or {}, test, f"run {run_dir}")
    chosen = record["snapshots"] if snapshots == "all" else record["snapshots"][-1:]
    todo = [s for s in chosen if force or not s["metrics"] or _lacks(s["metrics"], extractor, info)]
    generator = _build_generator(config, info)  # once per run: each snapshot only loads its weights
    for snap in tqdm(todo, desc=f"scoring {record['run_id']}", disable=not progress, leave=False):
        wall, cpu = time.perf_counter(), time.process_time()
        fake = snapshot_samples(run_dir, snap, config, info, n_samples, generator=generator)
        metrics = None if snap is record["snapshots"][-1] else CURVE_METRICS
        if snap["metrics"] and not force:  # another extractor's numbers are there: add this one's features only
            from ganbench.metrics.images import FEATURE_METRICS, IMAGE_METRICS

            metrics = [m for m in (metrics or IMAGE_METRICS) if m in FEATURE_METRICS]
        left_out = {}  # the metrics a small image folder cannot support are left out, as a first scoring does
        scores = score(fake, config, info, n_real=n_real, extractor=extractor, metrics=metrics,
                       inception_weights=inception_weights, extractor_weights=extractor_weights, left_out=left_out)
        old_scores, old_left_out = snap["metrics"], snap.get("left_out") or {}
        if force:  # a number re-scored, or left out now, must not keep its old value
            old_scores, old_left_out = (_unscored(d, config, info, extractor, metrics) for d in (old_scores, old_left_out))
        snap["metrics"] = {**old_scores, **scores}
        snap.pop("left_out", None)
        if old_left_out or left_out:  # what was not computed, and why (a record key of its own: metrics stay numbers)
            snap["left_out"] = {**old_left_out, **left_out}
        snap["scoring_seconds"] = scoring_seconds(wall, cpu)
        _update_outcome(record)
        write_record(run_dir, record)
    _update_outcome(record)
    write_record(run_dir, record)
    return record


def _lacks(metrics: dict, extractor: Optional[str], info) -> bool:
    """A scored snapshot has no number from the ``extractor`` asked for by name."""
    return bool(extractor) and info.kind != "points" and not any(k.endswith(f"/{extractor}") for k in metrics)


def scoring_seconds(wall_start: float, cpu_start: float) -> dict[str, float]:
    """What scoring one snapshot cost since ``perf_counter`` / ``process_time`` read the
    starts: sampling plus metrics, wall and process CPU seconds (CPU time is the
    fair measure on shared cores). Volatile: reproducibility checks ignore it, and
    records written before it existed have none."""
    return {"wall": round(time.perf_counter() - wall_start, 3), "cpu": round(time.process_time() - cpu_start, 3)}


def _unscored(old: dict, config: RunConfig, info, extractor: Optional[str], metrics) -> dict:
    """``old`` less what a forced score with ``extractor`` and ``metrics`` (None: all)
    recomputes: the extractor's keys and the extractor-free groups it scores."""
    if info.kind == "points":
        return {}
    from ganbench.metrics.images import IMAGE_METRICS, extractor_for

    name = extractor_for(config.dataset, extractor)
    unnamed = {k for group in (metrics or IMAGE_METRICS) for k in UNNAMED_KEYS.get(group, ())}
    return {k: v for k, v in old.items() if not k.endswith(f"/{name}") and k not in unnamed}


def _build_generator(config: RunConfig, info):
    generator, _ = build_models(info, width=config.width, z_dim=config.z_dim, d_norm=config.d_norm, config=config)
    return generator


def snapshot_samples(run_dir: Path, snap: dict, config: RunConfig, info, n_samples: Optional[int], *,
                     generator=None):
    """Samples from one snapshot's generator, from a fixed noise stream. ``generator``:
    a module of the run's architecture to load the snapshot into (built if None);
    every parameter and buffer is in the snapshot, so reusing one leaves nothing behind."""
    generator = generator if generator is not None else _build_generator(config, info)
    generator.load_state_dict(safe_torch_load(run_dir / snap["path"]))
    n = n_samples or (POINT_SAMPLES if info.kind == "points" else DEFAULT_IMAGE_SAMPLES)
    return generate_for(generator, n, config)


def score(fake, config: RunConfig, info, *, n_real=None, extractor=None, inception_weights=None,
          extractor_weights=None, metrics=None, left_out=None) -> dict[str, float]:
    """Metrics for one sample set: mode metrics for 2-D data, fidelity + modes for
    images (``metrics``: a subset of metric groups, None for all that apply;
    groups that do not apply, e.g. IS on DINOv2, are left out). ``left_out``: a
    dict that receives what an image folder's sample counts could not support
    (see ``score_images``), which is then left out instead of raising."""
    from ganbench.metrics import score_images, score_points

    if info.kind == "points":
        return score_points(fake, info)
    kwargs = {"n_real": n_real, "data_dir": config.data_dir, "inception_weights": inception_weights,
              "extractor_weights": extractor_weights, "left_out": left_out}
    if metrics is not None:
        from ganbench.metrics.images import applicable  # modes need a domain classifier, IS class logits

        kwargs["metrics"] = applicable(metrics, config.dataset, extractor)
    if extractor:
        kwargs["extractor"] = extractor
    return score_images(to_uint8(fake), config.dataset, **kwargs)


def _update_outcome(record: dict) -> None:
    """Final metrics are the last snapshot's; a non-finite metric is a divergence."""
    last = record["snapshots"][-1]
    for snap in record["snapshots"]:
        bad = [k for k, v in snap["metrics"].items() if isinstance(v, float) and not math.isfinite(v)]
        if bad and record["status"] == "finished":
            record["status"] = "diverged"
            record["diverged"] = {"g_step": snap["g_step"], "metric": bad[0], "value": str(snap["metrics"][bad[0]])}
    record["metrics"] = dict(last["metrics"]) if record["status"] == "finished" else {}

