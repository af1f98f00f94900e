"""Metrics of two feature sets: FID, IS, KID (torch-fidelity), precision/recall (torch-fidelity's
operations) and density/coverage (Naeem et al. 2020).

Everything here is a pure function of feature matrices, so features are
extracted once per sample set and reused by every metric. Convention, as in
torch-fidelity: the first argument is GENERATED, the second REAL.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.metric_isc import KEY_METRIC_ISC_MEAN, isc_features_to_metric
from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, kid_features_to_metric
from torch_fidelity.metric_prc import calc_cdist_part

from ganbench.extractors.errors import MetricError

#: torch-fidelity's defaults, which follow the papers: 10 IS splits (Salimans et al.
#: 2016), 100 KID subsets of 1000 (Binkowski et al. 2018), k = 3 for precision/recall
#: (Kynkaanniemi et al. 2019). Density/coverage use k = 5 (Naeem et al. 2020, Sec. 4).
IS_SPLITS = 10
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
PRC_K = 3
DC_K = 5
#: Rows per distance block: 1000 x 10000 float32 is 40 MB, never the full N x N matrix.
BLOCK = 1000
#: torch-fidelity's fixed seed for KID subsets and IS shuffling, so scores are repeatable.
RNG_SEED = 2020


def _check(features: Tensor, what: str, need: int, metric: str) -> None:
    if not torch.is_tensor(features) or features.dim() != 2:
        raise MetricError(f"{what} features must be a 2-D tensor [N, D] for {metric}")
    if features.shape[0] < need:
        raise MetricError(
            f"{metric} needs at least {need} {what} samples, got {features.shape[0]}; pass more samples"
        )
    if not torch.isfinite(features).all():
        raise MetricError(f"{what} features contain NaN or inf; the samples themselves are probably non-finite")


def fid_statistics(features: Tensor) -> dict[str, np.ndarray]:
    """Mean and covariance of ``features`` (float64, torch-fidelity's function)."""
    _check(features, "feature", 2, "FID")
    return fid_features_to_statistics(features.double())


def fid_from_statistics(stats_1: dict, stats_2: dict) -> float:
    """Frechet distance between two Gaussians given as ``{"mu", "sigma"}``."""
    return float(fid_statistics_to_metric(stats_1, stats_2, verbose=False)[KEY_METRIC_FID])


def fid(fake: Tensor, real: Tensor) -> float:
    """FID between two feature sets [N, D] (Heusel et al. 2017)."""
    _check(fake, "generated", 2, "FID")
    _check(real, "real", 2, "FID")
    return fid_from_statistics(fid_statistics(fake), fid_statistics(real))


def inception_score(logits: Tensor, splits: int = IS_SPLITS) -> float:
    """IS (mean over ``splits`` chunks) from class logits [N, K] (Salimans et al. 2016)."""
    _check(logits, "generated", splits, "IS")
    out = isc_features_to_metric(logits, splits=splits, shuffle=True, rng_seed=RNG_SEED)
    return float(out[KEY_METRIC_ISC_MEAN])


def kid(fake: Tensor, real: Tensor, subset_size: int = KID_SUBSET_SIZE, subsets: int = KID_SUBSETS) -> float:
    """KID (mean over ``subsets`` random subsets), cubic polynomial kernel (Binkowski et al. 2018)."""
    for feats, what in ((fake, "generated"), (real, "real")):
        if torch.is_tensor(feats) and 0 < feats.shape[0] < subset_size:
            raise MetricError(
                f"KID subset size {subset_size} is larger than the {feats.shape[0]} {what} samples; "
                f"pass kid_subset_size <= {feats.shape[0]} or score more samples"
            )
        _check(feats, what, max(subset_size, 2), "KID")
    out = kid_features_to_metric(
        fake, real, kid_subsets=subsets, kid_subset_size=subset_size, rng_seed=RNG_SEED, verbose=False
    )
    return float(out[KEY_METRIC_KID_MEAN])


def prc_radii(features: Tensor, k: int = PRC_K) -> Tensor:
    """Distance from each row to its k-th nearest other row, as torch-fidelity's
    precision/recall computes it (float32, ``calc_cdist_part`` in blocks of ``BLOCK``)."""
    features = features.float()
    return torch.cat([calc_cdist_part(b, features, BLOCK).kthvalue(k + 1).values for b in features.split(BLOCK)])


def _hits(points: Tensor, centres: Tensor, radii: Tensor) -> float:
    """Share of ``points`` inside (``<=``, torch-fidelity's rule) at least one centre's ball."""
    inside = [(calc_cdist_part(b, centres, BLOCK) <= radii).any(dim=1).float() for b in points.split(BLOCK)]
    return torch.cat(inside).mean().item()


def precision_recall(fake: Tensor, real: Tensor, k: int = PRC_K, *, real_radii: Tensor | None = None) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    The same operations, blocks and dtypes as torch-fidelity's
    ``prc_features_to_metric(save_cpu_ram=True, prc_batch_size=BLOCK)``, so the
    numbers are bit-identical to it (tested); written out here so that the real
    set's radii (``prc_radii(real, k)``) can come from the cache as ``real_radii``.
    """
    _check(fake, "generated", k + 1, "precision/recall")
    _check(real, "real", k + 1, "precision/recall")
    fake, real = fake.float(), real.float()
    real_radii = prc_radii(real, k) if real_radii is None else _checked_radii(real_radii, real, "precision/recall")
    recall = _hits(real, fake, prc_radii(fake, k))
    precision = _hits(fake, real, real_radii)
    return precision, recall


def dc_radii(real: Tensor, k: int = DC_K) -> Tensor:
    """Each real sample's ball radius for density/coverage: the distance to its
    k-th nearest real neighbour, self excluded (float64, blocks of ``BLOCK`` rows)."""
    real = real.double()
    return torch.cat([torch.cdist(block, real).kthvalue(k + 1, dim=1).values for block in real.split(BLOCK)])


def _checked_radii(radii: Tensor, real: Tensor, metric: str) -> Tensor:
    if not torch.is_tensor(radii) or tuple(radii.shape) != (real.shape[0],):
        raise MetricError(f"{metric}: real_radii must be a tensor [{real.shape[0]}] (one per real sample), got "
                          f"{tuple(getattr(radii, 'shape', ()))}; compute them from the same real features")
    return radii


def density_coverage(fake: Tensor, real: Tensor, k: int = DC_K, *, real_radii: Tensor | None = None) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020, Eq. 5 and 6).

    Each real sample gets a ball reaching its k-th nearest real neighbour
    (``dc_radii(real, k)``; pass them as ``real_radii`` when cached).
    density = (1 / kM) * sum over fakes of the number of real balls holding it;
    coverage = fraction of real balls holding at least one fake. Balls are open
    (strict ``<``) as in the authors' ``prdc`` code, so identical sets give
    density 1. Both the radii and the memberships of a real sample are computed
    with that sample as the left operand of the same ``cdist`` call shape, so a
    fake equal to a real neighbour gets bit-identical distances (no spurious
    flips at the ball's edge).
    """
    _check(fake, "generated", 1, "density/coverage")
    _check(real, "real", k + 1, "density/coverage")
    fake, real = fake.double(), real.double()
    radii = dc_radii(real, k) if real_radii is None else _checked_radii(real_radii, real, "density/coverage")
    inside_count = 0
    covered = 0
    for block, block_radii in zip(real.split(BLOCK), radii.split(BLOCK)):
        inside = torch.cdist(block, fake) < block_radii[:, None]  # [b, M]
        inside_count += int(inside.sum())
        covered += int(inside.any(dim=1).sum())
    return inside_count / (k * fake.shape[0]), covered / real.shape[0]
