"""Mode-collapse metrics: 2-D mixtures (PacGAN / VEEGAN) and class histograms for images.

2-D definitions follow PacGAN's code (Lin et al. 2018, fjxmlzn/PacGAN,
``synthetic_data_experiments/PacGAN/pacgan/extensions.py``, ``MetricLogger``),
which follows VEEGAN (Srivastava et al. 2017):

- each sample is assigned to its nearest mode, distance measured in units of
  the mode's std; it is *high quality* when that distance is < 3;
- a mode is *covered* when at least one high-quality sample is assigned to it
  (PacGAN counts the non-zero entries of its coverage histogram);
- *reverse KL* is KL(p || uniform) of the histogram of high-quality samples
  over modes, natural log (the paper's "reverse": generated distribution first).
  With no high-quality sample the histogram is empty and p does not exist: the
  value is ``None`` (undefined; reports show and count it), never ln M, which
  is the value of a perfect collapse onto one mode.

PacGAN and VEEGAN evaluate 2500 samples; pass that many (``POINT_SAMPLES``).

Images: a domain classifier labels each sample. Stacked datasets (PacGAN
stacked-MNIST code, ``VEEGAN_experiment/model.py``): a mode of the 1000 is covered
when at least one sample is classified into it, and ``reverse_kl`` =
KL(p_generated || uniform over 1000). Plain datasets: ``classes_covered`` counts
classes with at least one sample and ``class_kl`` = KL(p_generated || p_real).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ganbench.extractors.errors import MetricError

#: PacGAN and VEEGAN score 2500 generated points per 2-D evaluation.
POINT_SAMPLES = 2500
#: "within three standard deviations" (VEEGAN Sec. 5.1; PacGAN ``dis_thre=3``).
HQ_STDS = 3.0


def kl_divergence(p: Tensor, q: Tensor) -> float:
    """KL(p || q) in nats for histograms (normalised here); terms with p = 0 are 0.

    Infinite when p > 0 where q = 0 (that is the honest value).
    """
    p = p.double() / p.sum()
    q = q.double() / q.sum()
    mask = p > 0
    return float((p[mask] * (p[mask].log() - q[mask].log())).sum())


def kl_to_uniform(counts: Tensor) -> float:
    """KL(counts / sum || uniform); 0 for a uniform histogram, ln(M) when collapsed to one bin."""
    return kl_divergence(counts, torch.ones_like(counts, dtype=torch.float64))


def score_points(fake: Tensor, info) -> dict[str, float | None]:
    """Mode metrics of 2-D samples ``fake`` [N, 2] (tensor or array) against the mixture in ``info``.

    ``info`` is a ``DatasetInfo`` with ``centers`` [M, 2] and ``std``. Returns
    ``modes`` (covered, out of M), ``high_quality`` (percent of all samples) and
    ``reverse_kl``. With no high-quality sample at all the histogram is empty
    and ``reverse_kl`` is None (undefined; stored as JSON null), not ln(M):
    that is the value of a perfect one-mode collapse, a different and better
    outcome. Non-finite points are never high quality.
    """
    if getattr(info, "centers", None) is None or getattr(info, "std", None) is None:
        raise MetricError(f"score_points needs a 2-D mixture's DatasetInfo (centers, std), got {info!r}")
    if not torch.is_tensor(fake) and hasattr(fake, "shape"):
        fake = torch.as_tensor(fake)  # e.g. the numpy array stored in samples.npy
    if not torch.is_tensor(fake) or fake.dim() != 2 or fake.shape[1] != 2:
        raise MetricError(f"2-D samples must be a tensor [N, 2], got {getattr(fake, 'shape', type(fake))}")
    if fake.shape[0] == 0:
        raise MetricError("empty sample set: score_points got 0 points; pass the generator's samples (2500)")
    centers = info.centers.double()
    dist = torch.cdist(fake.double(), centers) / float(info.std)  # in std units (isotropic modes)
    dist = torch.nan_to_num(dist, nan=math.inf)
    nearest_dist, nearest = dist.min(dim=1)
    good = nearest_dist < HQ_STDS
    counts = torch.bincount(nearest[good], minlength=len(centers)).double()
    num_good = int(good.sum())
    return {
        "modes": float((counts > 0).sum()),
        "high_quality": 100.0 * num_good / fake.shape[0],
        "reverse_kl": kl_to_uniform(counts) if num_good else None,
    }


def class_metrics(fake_classes: Tensor, real_classes: Tensor, num_classes: int) -> dict[str, float]:
    """``classes_covered`` and ``class_kl`` = KL(p_generated || p_real) of predicted classes."""
    if fake_classes.numel() == 0:
        raise MetricError("empty sample set: no generated images to classify")
    fake_hist = torch.bincount(fake_classes, minlength=num_classes).double()
    real_hist = torch.bincount(real_classes, minlength=num_classes).double()
    return {
        "classes_covered": float((fake_hist > 0).sum()),
        "class_kl": kl_divergence(fake_hist, real_hist),
    }


def stacked_mode_metrics(fake_modes: Tensor, num_modes: int = 1000) -> dict[str, float]:
    """``modes`` covered (of ``num_modes``) and ``reverse_kl`` to uniform, from mode ids."""
    if fake_modes.numel() == 0:
        raise MetricError("empty sample set: no generated images to classify")
    hist = torch.bincount(fake_modes, minlength=num_modes).double()
    return {"modes": float((hist > 0).sum()), "reverse_kl": kl_to_uniform(hist)}
