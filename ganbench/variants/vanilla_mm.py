"""The original minimax GAN (Goodfellow et al. 2014, Eq. 1): G minimises
log(1 - D(G(z))). It saturates when D wins early, which is why it is kept: it is
the stability baseline the non-saturating form was invented to fix."""

import torch.nn.functional as F
from torch import Tensor

from ganbench.variants.base import register_variant
from ganbench.variants.vanilla import Vanilla


@register_variant("vanilla-mm")
class VanillaMinimax(Vanilla):
    """D as in ``vanilla``;  G: -softplus(D(G(z))) = log(1 - sigmoid(D(G(z))))."""

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return -F.softplus(fake_scores).mean()
