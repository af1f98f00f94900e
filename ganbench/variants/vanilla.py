"""Non-saturating GAN (Goodfellow et al. 2014, Sec. 3: the generator loss the paper
recommends in practice, -log D(G(z)))."""

import torch.nn.functional as F
from torch import Tensor

from ganbench.variants.base import Defaults, Variant, register_variant


@register_variant("vanilla")
class Vanilla(Variant):
    """D: softplus(-D(x)) + softplus(D(G(z)));  G: softplus(-D(G(z)))."""

    # The DCGAN recipe (Radford et al. 2016, Sec. 4) as pytorch/examples runs it:
    # Adam(2e-4, (0.5, 0.999)) for both networks (dcgan/main.py l.26-27, 216-217),
    # one D step then one G step (l.228-259), batch norm on the critic's conv
    # layers 2-4 (l.175-188), the generator trained on real labels (l.254-256).
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="batch",
                        source="pytorch/examples@77f55b9 dcgan/main.py:26-27,175-188,209-259")
    default_preset = "dcgan"

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        # -log sigmoid(s) = softplus(-s) and -log(1 - sigmoid(s)) = softplus(s),
        # written this way so large logits do not overflow.
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return F.softplus(-fake_scores).mean()
