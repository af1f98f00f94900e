"""Hinge GAN (Lim & Ye 2017, "Geometric GAN"; the loss of Miyato et al. 2018's
SN-GANs, Eq. 16-17): the critic is a soft-margin SVM on raw scores, the
generator moves its samples along the critic's normal."""

import torch.nn.functional as F
from torch import Tensor

from ganbench.variants.base import Defaults, Preset, Variant, register_variant


@register_variant("hinge")
class Hinge(Variant):
    """D: mean relu(1 - D(x)) + mean relu(1 + D(G(z)));  G: -mean D(G(z))."""

    # The SN-GAN codebases' schedule: spectral norm on every critic layer, 5 critic
    # steps per generator step, Adam(2e-4, (0, 0.9)) for both networks:
    # pfnet-research/sngan_projection configs/sn_cifar10_unconditional.yml l.35-47
    # (every config there), and christiancosgrove/pytorch-spectral-normalization-gan
    # @12dcf94 main.py l.39, 52-53; Miyato et al. 2018 App. B.2. Their learning-rate
    # decays (linear to 0; x0.99 per epoch) are not applied: budgets end runs early.
    # Nor are sngan_projection's generator batch of 128 against the critic's 64
    # (n_gen_samples, l.45) and its generator-first order (updater.py l.79-86):
    # ganbench's one batch size and critic-first loop are shared by every variant.
    defaults = Defaults(n_critic=5, lr=2e-4, betas=(0.0, 0.9), d_norm="spectral",
                        source="pfnet-research/sngan_projection@e84b1a5 configs/sn_cifar10_unconditional.yml:35-47")
    default_preset = "sngan"
    presets = {
        # Miyato et al. 2018, Table 1 setting C (the DCGAN recipe, Radford et al. 2016):
        # the hinge's committed default before it was traced to the SN code.
        "miyato-c": Preset(Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="spectral",
                                    source="Miyato et al. 2018 (arXiv 1802.05957) Table 1, setting C")),
    }

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()
