"""Least Squares GAN (Mao et al. 2017, Eq. 2), on raw logits."""

from dataclasses import dataclass

from torch import Tensor

from ganbench.core.errors import ConfigError
from ganbench.variants.base import Defaults, Variant, register_variant

# (a, b, c) = (fake target, real target, target G pushes fakes to).
# "0-1": Mao et al. Eq. 9 (b = c = 1, a = 0), the coding used in their experiments.
# "-1-1-0": Eq. 8 (a = -1, b = 1, c = 0), the coding that minimises Pearson chi^2.
CODINGS = {"0-1": (0.0, 1.0, 1.0), "-1-1-0": (-1.0, 1.0, 0.0)}


@dataclass(frozen=True)
class LsganOptions:
    coding: str = "0-1"

    def __post_init__(self):
        if self.coding not in CODINGS:
            raise ConfigError(f"lsgan coding {self.coding!r} is unknown; valid codings: {', '.join(CODINGS)}")


@register_variant("lsgan")
class Lsgan(Variant):
    """D: 1/2 (D(x) - b)^2 + 1/2 (D(G(z)) - a)^2;  G: 1/2 (D(G(z)) - c)^2."""

    # The authors' Adam run: xudonmao/LSGAN stability_comparison/BN_G_ls_adam,
    # 0-1 coding on logits (dcgan64.py l.129-133), Adam(2e-4, beta1 0.5) for both
    # networks (l.167-168; train.py l.16-17), batch norm on the critic's layers
    # 2-4 (l.20-22, 66-68), one D step then one G step. Their losses are
    # tf.nn.l2_loss sums (1/2 sum over the batch); we take the batch mean, which
    # Adam's update does not see (it is invariant to the loss's scale up to eps).
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="batch",
                        source="xudonmao/LSGAN@3b13d36 stability_comparison/BN_G_ls_adam/dcgan64.py:20-22,129-133,167-168")
    default_preset = "lsgan-adam"
    Options = LsganOptions

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        a, b, _ = CODINGS[self.options.coding]
        return 0.5 * ((real_scores - b) ** 2).mean() + 0.5 * ((fake_scores - a) ** 2).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        _, _, c = CODINGS[self.options.coding]
        return 0.5 * ((fake_scores - c) ** 2).mean()
