"""Non-saturating GAN (Goodfellow et al. 2014, Sec. 3: the generator loss the paper
recommends in practice, -log D(G(z)))."""

import torch.nn.functional as F
from torch import Tensor

from ganbench.variants.base import Defaults, Variant, register_variant


@register_variant("vanilla")
class Vanilla(Variant):
    """D: softplus(-D(x)) + softplus(D(G(z)));  G: softplus(-D(G(z)))."""

    # Adam(2e-4, betas (0.5, 0.999)) and batch norm in D: the DCGAN recipe
    # (Radford et al. 2016, Sec. 4), the standard setting for this objective.
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="batch")

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        # -log sigmoid(s) = softplus(-s) and -log(1 - sigmoid(s)) = softplus(s),
        # written this way so large logits do not overflow.
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return F.softplus(-fake_scores).mean()
