"""NDB and JSD (Richardson & Weiss 2018, "On GANs and GMMs", Sec. 4).

K-means (K = 100) bins are fitted on real images in pixel space; generated
images are assigned to the nearest bin centre. For every bin a two-proportion
z-test (pooled standard error, two-sided) compares the real and generated
proportions at significance 0.05; ``ndb`` is the FRACTION of statistically
different bins, NDB/K, the number the paper reports. ``jsd`` is the
Jensen-Shannon divergence (natural log) between the two bin histograms.
As in the authors' code (eitanrich/gans-n-gmms, ``utils/ndb.py``), pixels are
not whitened by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy.stats import norm
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits
from torch import Tensor

from ganbench.extractors.errors import MetricError
from ganbench.metrics.modes import kl_divergence

NDB_BINS = 100  # K used throughout the paper's experiments
NDB_ALPHA = 0.05  # significance level of the per-bin test (paper)
KMEANS_SEED = 0  # fixed so every user gets the same bins
KMEANS_MAX_ITER = 100  # as in the authors' code
_BLOCK = 2000  # rows per distance block when assigning bins


@dataclass(frozen=True)
class NdbBins:
    """Fitted bins: centres [K, D] (pixels in [0, 1]), real proportions [K], real count."""

    centers: Tensor
    proportions: Tensor
    n: int

    def to_dict(self) -> dict:
        return {"centers": self.centers, "proportions": self.proportions, "n": torch.tensor(self.n)}

    @classmethod
    def from_dict(cls, d: dict) -> "NdbBins":
        return cls(d["centers"], d["proportions"], int(d["n"]))


def _vectors(images: Tensor) -> Tensor:
    if images.dtype != torch.uint8 or images.dim() != 4:
        raise MetricError(f"NDB needs uint8 images [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
    return images.reshape(images.shape[0], -1).float() / 255.0


def fit_bins(real_images: Tensor, k: int = NDB_BINS, seed: int = KMEANS_SEED) -> NdbBins:
    """K-means bins of real images (sklearn, fixed seed, as many threads as torch uses)."""
    x = _vectors(real_images)
    if x.shape[0] < k:
        raise MetricError(f"NDB needs at least K={k} real images to fit its bins, got {x.shape[0]}; raise n_real")
    with threadpool_limits(limits=torch.get_num_threads()):
        km = KMeans(n_clusters=k, n_init=1, max_iter=KMEANS_MAX_ITER, random_state=seed).fit(x.numpy())
    counts = np.bincount(km.labels_, minlength=k)
    order = np.argsort(-counts, kind="stable")  # largest bin first, as the authors order them
    centers = torch.from_numpy(km.cluster_centers_[order].astype(np.float32))
    proportions = torch.from_numpy(counts[order] / counts.sum())
    return NdbBins(centers, proportions, int(x.shape[0]))


def assign_bins(images: Tensor, bins: NdbBins) -> Tensor:
    """Index of the nearest bin centre (L2) for each image."""
    x = _vectors(images)
    if x.shape[1] != bins.centers.shape[1]:
        raise MetricError(f"images have {x.shape[1]} pixels, the NDB bins {bins.centers.shape[1]}")
    return torch.cat([torch.cdist(block, bins.centers).argmin(dim=1) for block in x.split(_BLOCK)])


def different_bins(p_real: Tensor, n_real: int, p_fake: Tensor, n_fake: int, alpha: float = NDB_ALPHA) -> Tensor:
    """Two-sided two-proportion z-test per bin with pooled standard error."""
    pooled = (p_real * n_real + p_fake * n_fake) / (n_real + n_fake)
    se = torch.sqrt(pooled * (1 - pooled) * (1.0 / n_real + 1.0 / n_fake))
    z = (p_real - p_fake) / se
    p_values = torch.from_numpy(2.0 * norm.sf(z.abs().numpy()))
    return p_values < alpha


def jensen_shannon(p: Tensor, q: Tensor) -> float:
    """JSD(p, q) = (KL(p || m) + KL(q || m)) / 2 with m = (p + q) / 2, natural log."""
    p, q = p.double() / p.sum(), q.double() / q.sum()
    m = (p + q) / 2
    return 0.5 * kl_divergence(p, m) + 0.5 * kl_divergence(q, m)


def ndb_jsd(fake_images: Tensor, bins: NdbBins, alpha: float = NDB_ALPHA) -> dict[str, float]:
    """``ndb`` (fraction NDB/K of different bins) and ``jsd`` of generated images."""
    if fake_images.shape[0] == 0:
        raise MetricError("empty sample set: NDB got no generated images")
    k = bins.centers.shape[0]
    counts = torch.bincount(assign_bins(fake_images, bins), minlength=k).double()
    p_fake = counts / counts.sum()
    p_real = bins.proportions.double()
    different = different_bins(p_real, bins.n, p_fake, fake_images.shape[0], alpha)
    return {"ndb": float(different.sum()) / k, "jsd": jensen_shannon(p_real, p_fake)}
