"""Hinge GAN (Lim & Ye 2017, "Geometric GAN"; the loss of Miyato et al. 2018's
SN-GANs, Eq. 16-17): the critic is a soft-margin SVM on raw scores, the
generator moves its samples along the critic's normal."""

import torch.nn.functional as F
from torch import Tensor

from ganbench.variants.base import Defaults, Variant, register_variant


@register_variant("hinge")
class Hinge(Variant):
    """D: mean relu(1 - D(x)) + mean relu(1 + D(G(z)));  G: -mean D(G(z))."""

    # Spectral norm in the critic: how Miyato et al. 2018 train the hinge loss
    # (SN-GANs); d_norm = "batch" / "layer" / "none" in a benchmark's overrides
    # turns it off. Adam(2e-4, betas (0.5, 0.999)), n_critic = 1: the DCGAN
    # recipe vanilla uses (Radford et al. 2016), which is among the settings
    # Miyato et al. compare (their Table 1), so hinge differs from vanilla only
    # in its loss and critic normalisation.
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="spectral")

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()
