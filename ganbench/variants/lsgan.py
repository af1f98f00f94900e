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

    # Same DCGAN optimiser and batch-norm critic as vanilla: Mao et al. build on
    # the DCGAN architecture and change only the objective.
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="batch")
    Options = LsganOptions

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        a, b, _ = CODINGS[self.options.coding]
        return 0.5 * ((real_scores - b) ** 2).mean() + 0.5 * ((fake_scores - a) ** 2).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        _, _, c = CODINGS[self.options.coding]
        return 0.5 * ((fake_scores - c) ** 2).mean()
