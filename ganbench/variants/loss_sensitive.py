"""Loss-Sensitive GAN (Qi 2017, arXiv 1701.06264, Eq. 7-8 and Sec. 5).

The critic is a loss function L(x) >= 0 that must score a real sample lower
than a generated one by a data-dependent margin Delta(x, G(z)); the generator
minimises the loss of its samples. Lipschitz control of L is what makes the
margin meaningful: by default the finite-difference gradient penalty of the
authors' PyTorch port (maple-research-lab/glsgan-gp, lsgan-gp.py,
``calc_gradient_penalty2``); optionally the gradient-norm penalty that file
also defines (``calc_gradient_penalty``, as in WGAN-GP), or the weight decay of
the paper's Torch code.

The finite-difference penalty constrains L only along real-fake segments. On
2-D data that leaves the critic free to grow steep slopes across and beyond
the segments, and the generator follows them away from the data (ring8, quick
budget: final samples 5-8 units from the centre of the unit ring). The gradient-norm
option keeps the samples near the data; see the README's note on
loss-sensitive in 2-D.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.errors import ConfigError
from ganbench.variants.base import Defaults, Variant, gradient_penalty, register_variant

# Reference code: margin = lambda * ||x - G(z)||_1 with lambda = 0.0002 on
# 64x64x3 images (guojunq/lsgan lsgan.lua, glsgan-gp lsgan-gp.py). We use the
# per-dimension mean |x - G(z)| so the margin does not grow with resolution:
# 0.0002 * 64 * 64 * 3 = 2.4576 reproduces the reference margin at 64x64x3.
REFERENCE_MARGIN_SCALE = 0.0002 * 64 * 64 * 3
LIPSCHITZ_CONTROLS = ("gradient-penalty", "gradient-norm", "weight-decay")


@dataclass(frozen=True)
class LossSensitiveOptions:
    margin_scale: float = REFERENCE_MARGIN_SCALE
    # gamma: weight of mean L(x); the paper shows it can be 0 for the
    # unconditional model (reference code default gamma = 0).
    gamma: float = 0.0
    # "gradient-penalty": glsgan-gp's finite difference on real-fake segments
    # (lambda = 10); "gradient-norm": (||grad L(x_hat)||_2 - 1)^2 at a random
    # interpolate, glsgan-gp's other penalty (lambda = 10); "weight-decay": the
    # Torch reference's decay_rate, its suggested value 5e-5.
    lipschitz: str = "gradient-penalty"
    gp_weight: float = 10.0
    weight_decay: float = 5e-5

    def __post_init__(self):
        if self.lipschitz not in LIPSCHITZ_CONTROLS:
            allowed = ", ".join(repr(c) for c in LIPSCHITZ_CONTROLS)
            raise ConfigError(f"loss-sensitive lipschitz={self.lipschitz!r} is unknown; use one of {allowed}")


@register_variant("loss-sensitive")
class LossSensitive(Variant):
    """L step: mean_i max(0, Delta_i + L(x_i) - L(G(z_i))) + gamma mean L(x_i) [+ penalty];
    G step: mean L(G(z)).  L = softplus(critic score) keeps L >= 0 and smooth."""

    # Adam(1e-4, beta1 = 0.5): guojunq/lsgan lsgan.lua (lr = 0.0001, beta1 = 0.5).
    # No batch norm in the critic: glsgan-gp comments it out, the penalty is per pair.
    defaults = Defaults(n_critic=1, lr=1e-4, betas=(0.5, 0.999), d_norm="none")
    Options = LossSensitiveOptions

    def loss_of(self, scores: Tensor) -> Tensor:
        """L(x) >= 0 from the critic's raw score."""
        return F.softplus(scores)

    def margin(self, real: Tensor, fake: Tensor) -> Tensor:
        """Delta_i = margin_scale * mean_j |x_ij - G(z_i)_j|, without gradient."""
        return self.options.margin_scale * (real - fake).detach().abs().flatten(1).mean(dim=1)

    def pair_objective(self, real_scores: Tensor, fake_scores: Tensor, margin: Tensor) -> Tensor:
        """The hinge of Eq. 8 on scores, plus the gamma term."""
        loss_real, loss_fake = self.loss_of(real_scores).flatten(), self.loss_of(fake_scores).flatten()
        hinge = F.relu(margin + loss_real - loss_fake).mean()
        return hinge + self.options.gamma * loss_real.mean()

    def d_loss(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        loss = self.pair_objective(critic(real), critic(fake), self.margin(real, fake))
        if self.options.lipschitz == "gradient-penalty":
            loss = loss + self.options.gp_weight * self.lipschitz_penalty(critic, real, fake)
        elif self.options.lipschitz == "gradient-norm":
            loss = loss + self.options.gp_weight * self.gradient_norm_penalty(critic, real, fake)
        return loss

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return self.loss_of(fake_scores).mean()

    def lipschitz_penalty(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """E[(|L(x1) - L(x2)| / ||x1 - x2||_2 - 1)^2] for two random points on each
        real-fake segment: glsgan-gp's finite-difference penalty. The reference
        draws one mixing weight per batch; we draw one per pair (same expectation,
        lower variance)."""
        shape = (real.shape[0],) + (1,) * (real.dim() - 1)
        a1, a2 = torch.rand(shape, device=real.device), torch.rand(shape, device=real.device)
        x1, x2 = real + a1 * (fake - real), real + a2 * (fake - real)
        slope = (self.loss_of(critic(x1)) - self.loss_of(critic(x2))).flatten().abs()
        dist = (x1 - x2).flatten(1).norm(2, dim=1).clamp_min(1e-12)
        return ((slope / dist - 1.0) ** 2).mean()

    def gradient_norm_penalty(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """E[(||grad_x L(x_hat)||_2 - 1)^2] at x_hat uniform on each real-fake segment:
        every direction at x_hat is constrained, not only the segment's."""
        return gradient_penalty(lambda x: self.loss_of(critic(x)), real, fake)

    def weight_decay(self, role: str) -> float:
        on = self.options.lipschitz == "weight-decay" and role == "critic"
        return self.options.weight_decay if on else 0.0
