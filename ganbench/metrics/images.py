"""``score_images``: every image metric of one generated sample set, features extracted once.

Real-data features, statistics, predicted classes, k-NN radii (precision/recall,
density/coverage) and NDB bins come from the on-disk cache
(``ganbench.metrics.cache``) after the first call.
"""

from __future__ import annotations

import functools
import os
import warnings

import torch
from threadpoolctl import threadpool_limits
from torch import Tensor

from ganbench.core.errors import GanbenchWarning
from ganbench.extractors import EXTRACTORS, LoadedExtractor, extract_features, inception, load_extractor
from ganbench.extractors.errors import MetricError
from ganbench.metrics import cache, fidelity, modes, ndb

#: Metric groups ``score_images`` knows, in output order.
IMAGE_METRICS = ("fid", "is", "kid", "precision_recall", "density_coverage", "modes", "ndb")
FEATURE_METRICS = frozenset({"fid", "kid", "precision_recall", "density_coverage"})
#: Lucic et al. 2018 ("Are GANs Created Equal?") compute FID from 10k generated and
#: 10k test images on Fashion-MNIST; callers pass fewer for smoke runs.
IMAGE_SAMPLES = 10_000
#: The domain classifier of each dataset: its logits are the dataset's classes.
DOMAIN_EXTRACTOR = {"fashion-mnist": "fmnist-cnn", "stacked-fashion-mnist": "fmnist-cnn"}
STACKED_DATASETS = frozenset({"stacked-fashion-mnist", "stacked-mnist"})
#: Fixed seed of the real subset when ``n_real`` is below the split size.
SUBSET_SEED = 0


@functools.lru_cache(maxsize=2)
def _real_images(dataset: str, split: str, n_real: int | None, data_dir) -> tuple[Tensor, str]:
    """The real images scored against and the name their cache keys use: the
    dataset's ``cache_id`` where its name does not fix its content (an image
    folder's hash), else its name. Memoised: every snapshot of a run reuses them."""
    from ganbench.datasets import load_dataset

    loaded = load_dataset(dataset, split, data_dir)
    data, cache_name = loaded.data, loaded.info.cache_id or dataset
    if n_real is None or n_real == len(data):
        return data, cache_name
    if not 0 < n_real <= len(data):
        raise MetricError(
            f"n_real={n_real} but the {dataset} {split} split has {len(data)} images; pass 1..{len(data)}"
            + (" (an image folder's test split is its held-out part: set holdout=, or add images)"
               if loaded.info.cache_id else "")
        )
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(SUBSET_SEED))[:n_real]
    return data[idx.sort().values], cache_name


def _real_entry(real: Tensor, dataset: str, split: str, ext: LoadedExtractor) -> dict:
    """Real features, their FID statistics and (domain classifiers) predicted classes."""

    def compute() -> dict:
        feats = extract_features(real, ext)
        stats = fidelity.fid_statistics(feats[ext.spec.feature_layer])
        entry = {"features": feats[ext.spec.feature_layer].float(),
                 "mu": torch.from_numpy(stats["mu"]), "sigma": torch.from_numpy(stats["sigma"])}
        if ext.spec.classes:
            entry["classes"] = feats[ext.spec.logits_layer].argmax(dim=1)
        return entry

    key = cache.cache_key(dataset, split, len(real), ext.spec.cache_name, ext.weights_sha256)
    return cache.load_or_compute(key, compute)


def _real_radii(real: dict, dataset: str, split: str, ext: LoadedExtractor, metric: str, k: int) -> Tensor:
    """The real set's k-NN ball radii for ``metric`` ("precision_recall" or
    "density_coverage"), cached next to its features: the key names the metric,
    k, the real sample count and the extractor's sha256, so a changed k or
    n_real never reuses a stale entry."""
    radii_of = {"precision_recall": (fidelity.prc_radii, "prc"), "density_coverage": (fidelity.dc_radii, "dc")}
    fn, tag = radii_of[metric]
    key = cache.cache_key(dataset, split, len(real["features"]), f"{ext.spec.cache_name}-{tag}-radii-k{k}", ext.weights_sha256)
    return cache.load_or_compute(key, lambda: {"radii": fn(real["features"], k)})["radii"]


def _feature_metrics(fake: dict, real: dict, ext: LoadedExtractor, wanted: set, kid_subset_size: int,
                     radii=None) -> dict:
    """``radii(metric, k)``: cached real radii (None: computed from the real features)."""
    name, f_fake = ext.spec.name, fake[ext.spec.feature_layer]
    f_real = real["features"] if real is not None else None
    radii = radii or (lambda metric, k: None)
    out = {}
    if "fid" in wanted:  # keyed "fid/<ext>", or "fd/<ext>" for extractors whose distance is not called FID
        stats_real = {"mu": real["mu"].numpy(), "sigma": real["sigma"].numpy()}
        out[f"{ext.spec.frechet}/{name}"] = fidelity.fid_from_statistics(fidelity.fid_statistics(f_fake), stats_real)
    if "is" in wanted and ext.spec.logits_layer is not None:
        out[f"is/{name}"] = fidelity.inception_score(fake[ext.spec.logits_layer])
    if "kid" in wanted:
        out[f"kid/{name}"] = fidelity.kid(f_fake, f_real, subset_size=kid_subset_size)
    if "precision_recall" in wanted:
        k = fidelity.PRC_K
        out[f"precision/{name}"], out[f"recall/{name}"] = fidelity.precision_recall(
            f_fake, f_real, k, real_radii=radii("precision_recall", k))
    if "density_coverage" in wanted:
        k = fidelity.DC_K
        out[f"density/{name}"], out[f"coverage/{name}"] = fidelity.density_coverage(
            f_fake, f_real, k, real_radii=radii("density_coverage", k))
    return out


def _mode_metrics(fake: Tensor, real: Tensor, dataset: str, split: str, fake_feats: dict) -> dict:
    ext = load_extractor(DOMAIN_EXTRACTOR[dataset])
    feats = fake_feats.get(ext.spec.name) or extract_features(fake, ext, (ext.spec.logits_layer,))
    logits = feats[ext.spec.logits_layer]
    if dataset in STACKED_DATASETS:
        return modes.stacked_mode_metrics(logits.argmax(dim=1), num_modes=logits.shape[1])
    real_classes = _real_entry(real, dataset, split, ext)["classes"]
    return modes.class_metrics(logits.argmax(dim=1), real_classes, num_classes=logits.shape[1])


def extractor_for(dataset: str, extractor: str | None = None) -> str:
    """The extractor that scores ``dataset``: ``extractor``, else its domain classifier, else Inception."""
    return extractor or DOMAIN_EXTRACTOR.get(dataset, inception.NAME)


def applicable(metrics, dataset: str, extractor: str | None = None) -> list[str]:
    """The metric groups of ``metrics`` that can be computed on ``dataset`` with
    ``extractor``: 'modes' needs a domain classifier, 'is' class logits
    (DINOv2 has none)."""
    logits = EXTRACTORS.get(extractor_for(dataset, extractor)).logits_layer is not None
    return [m for m in metrics if (m != "modes" or dataset in DOMAIN_EXTRACTOR) and (m != "is" or logits)]


def _resolve_metrics(metrics, dataset: str, extractor: str) -> set:
    if metrics is None:
        return set(applicable(IMAGE_METRICS, dataset, extractor))
    wanted = set([metrics] if isinstance(metrics, str) else metrics)
    if unknown := wanted - set(IMAGE_METRICS):
        raise MetricError(f"unknown image metric(s) {sorted(unknown)}; valid: {', '.join(IMAGE_METRICS)}")
    if "modes" in wanted and dataset not in DOMAIN_EXTRACTOR:
        raise MetricError(
            f"'modes' needs a domain classifier and {dataset} has none (have: {sorted(DOMAIN_EXTRACTOR)})"
        )
    if "is" in wanted and "is" not in applicable(["is"], dataset, extractor):
        raise MetricError(f"IS needs class logits and extractor {extractor} has none; drop 'is' from metrics "
                          f"or score IS with extractor='{inception.NAME}'")
    return wanted


def _count_problems(n_fake: int, n_real: int, wanted: set, kid_subset_size: int) -> dict[str, str]:
    """Why each metric of ``wanted`` cannot be computed from these sample counts (none: {})."""
    problems = {}
    needs = {"fid": (2, 2), "is": (fidelity.IS_SPLITS, 0), "kid": (kid_subset_size, kid_subset_size),
             "precision_recall": (fidelity.PRC_K + 1,) * 2, "density_coverage": (1, fidelity.DC_K + 1),
             "ndb": (1, ndb.NDB_BINS)}
    for metric in sorted(wanted & needs.keys()):
        need_fake, need_real = needs[metric]
        if metric == "kid" and min(n_fake, n_real) < kid_subset_size:
            problems[metric] = (f"KID subset size {kid_subset_size} exceeds the samples ({n_fake} generated, "
                                f"{n_real} real); pass kid_subset_size <= {min(n_fake, n_real)} or more samples")
        elif n_fake < need_fake or n_real < need_real:
            problems[metric] = (f"{metric} needs >= {need_fake} generated and >= {need_real} real samples, got "
                                f"{n_fake} and {n_real}; score more samples or drop '{metric}' from metrics")
    return problems


def _check_counts(n_fake: int, n_real: int, wanted: set, kid_subset_size: int, leave_out: bool) -> dict[str, str]:
    """Fail before any extraction when a requested metric cannot be computed, or
    (``leave_out``) warn and return {metric: why} for those to leave out."""
    problems = _count_problems(n_fake, n_real, wanted, kid_subset_size)
    if problems and not leave_out:
        raise MetricError(next(iter(problems.values())))
    for message in problems.values():
        warnings.warn(f"left out: {message}", GanbenchWarning, stacklevel=3)
    return problems


def _result_key(metric: str, name: str) -> str:
    """A metric group named as the record keys its numbers: ``kid/<ext>``, ``fd/<ext>``, ``ndb``."""
    if metric not in FEATURE_METRICS | {"is"}:
        return metric
    return f"{EXTRACTORS.get(name).frechet if metric == 'fid' else metric}/{name}"


def score_images(
    fake: Tensor,
    dataset: str,
    *,
    real_split: str = "test",
    n_real: int | None = None,
    extractor: str | None = None,
    metrics=None,
    kid_subset_size: int = fidelity.KID_SUBSET_SIZE,
    data_dir: str | os.PathLike | None = None,
    inception_weights: str | os.PathLike | None = None,
    extractor_weights: str | os.PathLike | None = None,
    left_out: dict | None = None,
) -> dict[str, float]:
    """Score generated uint8 images ``fake`` [N, C, H, W] against ``dataset``'s ``real_split``.

    ``n_real``: real images used (default: the whole split; a fixed seeded subset
    otherwise). ``extractor``: ``"fmnist-cnn"``, ``"inception-v3-compat"`` or
    ``"dinov2-vit-l-14"`` (default: the dataset's domain classifier, else
    Inception). ``extractor_weights``: its weights file (``inception_weights``:
    Inception's, when it is the one used). ``metrics``: any of ``IMAGE_METRICS``
    (default: all that apply). Returns flat floats: ``fid/<ext>`` (``fd/<ext>``
    for DINOv2), ``is/<ext>`` (not for DINOv2), ``kid/<ext>``, ``precision/<ext>``,
    ``recall/<ext>``, ``density/<ext>``, ``coverage/<ext>``; ``classes_covered``
    and ``class_kl`` (or ``modes`` and ``reverse_kl`` for stacked datasets);
    ``ndb`` (fraction of different bins) and ``jsd``. Raises ``MetricError``
    for empty or too small sample sets, bad weights or missing Inception weights.

    Image folders only (a user's folder may hold few images): a metric the sample
    counts cannot support (KID, NDB on a small held-out split) is left out with a
    warning instead of raising, when ``metrics`` is None or ``left_out`` is a dict;
    ``left_out`` then receives {group: why}, the group keyed as the record keys its
    numbers (``kid/<ext>``, ``fd/<ext>``, ``precision_recall/<ext>``, ``ndb``).
    """
    if not torch.is_tensor(fake) or fake.dtype != torch.uint8 or fake.dim() != 4:
        raise MetricError(f"generated images must be a uint8 tensor [N, C, H, W], got "
                          f"{getattr(fake, 'dtype', type(fake))} {tuple(getattr(fake, 'shape', ()))}; use to_uint8()")
    if fake.shape[0] == 0:
        raise MetricError("empty sample set: score_images got 0 images; generate samples first")
    name = extractor_for(dataset, extractor)
    spec = EXTRACTORS.get(name)
    wanted = _resolve_metrics(metrics, dataset, name)
    if spec.datasets is not None and dataset not in spec.datasets:
        raise MetricError(f"extractor {name} is trained for {', '.join(spec.datasets)}, not {dataset}; "
                          f"use extractor='{inception.NAME}'")
    real, cache_name = _real_images(dataset, real_split, n_real, data_dir)
    if real.shape[1:] != fake.shape[1:]:
        raise MetricError(f"generated images are {tuple(fake.shape[1:])}, {dataset} images {tuple(real.shape[1:])}")
    folder = cache_name != dataset  # only datasets whose name does not fix their content have a cache_id
    problems = _check_counts(fake.shape[0], real.shape[0], wanted, kid_subset_size,
                             leave_out=folder and (metrics is None or left_out is not None))
    wanted -= problems.keys()
    if left_out is not None:
        left_out.update({_result_key(m, name): why for m, why in problems.items()})
    if extractor_weights is None and name == inception.NAME:
        extractor_weights = inception_weights
    # numpy's BLAS (FID's eigenvalues, KID's kernels, k-means) gets torch's thread count,
    # the worker's one-thread policy: its own default, one thread per core, spun
    # idle threads on shared cores (FID's 384-dim eigvals: 0.9 CPU s, 0.04 s on one).
    with threadpool_limits(limits=torch.get_num_threads()):
        return _score(fake, real, cache_name, dataset, real_split, name, wanted, kid_subset_size, extractor_weights)


def _score(fake, real, cache_name, dataset, real_split, name, wanted, kid_subset_size, extractor_weights) -> dict:
    """score_images after its checks: every metric group in ``wanted``."""
    out, fake_feats = {}, {}
    if wanted & (FEATURE_METRICS | {"is"}):
        ext = load_extractor(name, extractor_weights)
        fake_feats[name] = extract_features(fake, ext)
        real_entry = _real_entry(real, cache_name, real_split, ext) if wanted & FEATURE_METRICS else None
        radii = functools.partial(_real_radii, real_entry, cache_name, real_split, ext)
        out.update(_feature_metrics(fake_feats[name], real_entry, ext, wanted, kid_subset_size, radii))
    if "modes" in wanted:
        out.update(_mode_metrics(fake, real, dataset, real_split, fake_feats))
    if "ndb" in wanted:
        key = cache.cache_key(cache_name, real_split, len(real), f"ndb-k{ndb.NDB_BINS}-seed{ndb.KMEANS_SEED}")
        bins = ndb.NdbBins.from_dict(cache.load_or_compute(key, lambda: ndb.fit_bins(real).to_dict()))
        out.update(ndb.ndb_jsd(fake, bins))
    return out
