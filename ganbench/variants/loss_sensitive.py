"""Loss-Sensitive GAN (Qi 2017, arXiv 1701.06264, Eq. 7-8 and Sec. 5).

The critic is a loss function L(x) that must score a real sample lower than
a generated one by a data-dependent margin Delta(x, G(z)); the generator
minimises the loss of its samples. Lipschitz control of L is what makes the
margin meaningful: by default the finite-difference gradient penalty of the
authors' PyTorch port (maple-research-lab/glsgan-gp, lsgan-gp.py,
``calc_gradient_penalty2``); optionally the gradient-norm penalty that file
also defines (``calc_gradient_penalty``, as in WGAN-GP), or the weight decay of
the paper's Torch code (guojunq/lsgan, lsgan.lua), which decays both networks.

The margin. The references use Delta = lambda ||x - G(z)||_1, lambda = 0.0002,
on 64x64x3 images (d = 12288). A unit-slope L can raise L(G(z)) - L(x) by at
most ||x - G(z)||_2, so what decides whether the hinge can be met is the ratio
Delta / ||x - G(z)||_2. For a difference whose d entries are i.i.d. zero-mean
Gaussian, ||v||_1 ~ d sigma sqrt(2/pi) and ||v||_2 ~ sqrt(d) sigma, so the
reference's margin is lambda sqrt(2 d / pi) ||v||_2 = 0.0177 ||v||_2 at
d = 12288 (at most lambda sqrt(d) = 0.022 ||v||_2, Cauchy-Schwarz). We use
Delta = c ||x - G(z)||_2 with c = 0.0002 sqrt(2 * 12288 / pi): the reference's
expected margin at 64x64x3 and the same ratio to the Lipschitz bound at any
dimension. (The earlier per-dimension mean |x - G(z)| times 2.4576 kept the
per-pixel coefficient instead; in 2-D it is 1.2-1.7 ||v||_2, above the bound,
so the hinge could never be met.)
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.core.errors import ConfigError
from ganbench.variants.base import Defaults, Variant, gradient_penalty, register_variant

# lsgan.lua / lsgan-gp.py: lambda = 0.0002 on the L1 distance of 64x64x3 images;
# converted to the L2 distance as derived in the module docstring (= 0.017692).
REFERENCE_L1_SCALE, REFERENCE_DIM = 0.0002, 64 * 64 * 3
MARGIN_SCALE = REFERENCE_L1_SCALE * math.sqrt(2 * REFERENCE_DIM / math.pi)
LIPSCHITZ_CONTROLS = ("gradient-penalty", "gradient-norm", "weight-decay")
# How L is read off the critic's raw output: "relu" as lsgan.lua (its netD ends
# in nn.ReLU, so L >= 0 as the paper requires), "raw" as lsgan-gp.py (no final
# activation).
LOSS_OUTPUTS = ("relu", "raw")


@dataclass(frozen=True)
class LossSensitiveOptions:
    margin_scale: float = MARGIN_SCALE  # c in Delta = c ||x - G(z)||_2
    loss_output: str = "relu"
    # gamma: weight of mean L(x); the paper shows it can be 0 for the
    # unconditional model (reference code default gamma = 0).
    gamma: float = 0.0
    # "gradient-penalty": glsgan-gp's finite difference on real-fake segments
    # (lambda = 10); "gradient-norm": (||grad L(x_hat)||_2 - 1)^2 at a random
    # interpolate, glsgan-gp's other penalty (lambda = 10); "weight-decay": the
    # Torch reference's decay_rate (added to both networks' gradients), its
    # suggested value 5e-5.
    lipschitz: str = "gradient-penalty"
    gp_weight: float = 10.0
    weight_decay: float = 5e-5

    def __post_init__(self):
        for name, allowed in (("lipschitz", LIPSCHITZ_CONTROLS), ("loss_output", LOSS_OUTPUTS)):
            if getattr(self, name) not in allowed:
                valid = ", ".join(repr(c) for c in allowed)
                raise ConfigError(f"loss-sensitive {name}={getattr(self, name)!r} is unknown; use one of {valid}")


@register_variant("loss-sensitive")
class LossSensitive(Variant):
    """L step: mean_i max(0, Delta_i + L(x_i) - L(G(z_i))) + gamma mean L(x_i) [+ penalty];
    G step: mean L(G(z)).  L = relu(critic score) by default (lsgan.lua)."""

    # Adam(1e-4, beta1 = 0.5): guojunq/lsgan lsgan.lua (lr = 0.0001, beta1 = 0.5).
    # No batch norm in the critic: glsgan-gp comments it out, the penalty is per pair.
    defaults = Defaults(n_critic=1, lr=1e-4, betas=(0.5, 0.999), d_norm="none")
    Options = LossSensitiveOptions

    def __init__(self, **options):
        super().__init__(**options)
        # Only the gradient-norm penalty differentiates L w.r.t. its input
        # (create_graph): that critic must stay eager under compile.
        self.double_backward = self.options.lipschitz == "gradient-norm"

    def loss_of(self, scores: Tensor) -> Tensor:
        """L(x) from the critic's raw score (``loss_output``)."""
        return F.relu(scores) if self.options.loss_output == "relu" else scores

    def margin(self, real: Tensor, fake: Tensor) -> Tensor:
        """Delta_i = margin_scale * ||x_i - G(z_i)||_2, without gradient."""
        return self.options.margin_scale * (real - fake).detach().flatten(1).norm(2, dim=1)

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
        """lsgan.lua adds decay_rate * x to the gradients of both L and G."""
        return self.options.weight_decay if self.options.lipschitz == "weight-decay" else 0.0
