"""Loss-Sensitive GAN (Qi 2017, arXiv 1701.06264), as the authors' code runs it.

The critic is a loss function L(x) that must score a real sample lower than a
generated one by a data-dependent margin Delta(x, G(z)); the generator
minimises the loss of its samples:

    L step:  mean_i c(Delta_i + L(x_i) - L(G(z_i))) + gamma mean_i L(x_i) + Lipschitz term
    G step:  mean_i L(G(z_i))

with c(a) = max(a, slope * a) (relu for slope 0: LS-GAN; the generalised GLS-GAN
for slope > 0) and Delta_i = lambda ||x_i - G(z_i)||_1, without gradient.

Default: the authors' maintained PyTorch code, maple-research-lab/glsgan-gp,
``lsgan-gp.py`` as of a135b0e (HEAD 29ca811 changes only the README):
raw L (the critic's last conv, no activation: l.134-148), lambda = 2e-4 on the
per-pair L1 distance (l.33, l.178, l.233), slope 0 (l.35, l.180, l.236), no
gamma term, the Lipschitz term gamma_gp * mean ||grad_x L(x)||_2 at the real
batch with gamma_gp = 10 (``get_direct_gradient_penalty``, l.153-165; l.34),
Adam(2e-4, (0.5, 0.999)) for both networks (l.28-30, l.169-170), one critic step
per generator step, no batch norm in the critic.

Two details of that file, and what we do:
- l.236 adds a (B,1,1,1) score difference to a (B,) margin, which broadcasts to a
  B x B table whose mean mixes every score pair with every margin. We take the
  per-pair mean its README states (README l.23 at a135b0e); the two differ only through Delta.
- l.163 takes the gradient's 2-norm over dim 1 (the channel axis of an image),
  then the mean over batch and pixels. We do the same: for 2-D points dim 1 is the
  point's coordinates, so it is the per-sample gradient norm.

Named alternatives (``preset`` in a benchmark file or ``ganbench train --preset``):
- ``lsgan-lua``: guojunq/lsgan ``lsgan.lua`` (HEAD b01c33b): L = relu(D) (l.120),
  the same margin (l.33, l.219-220), gamma 0 (l.34), weight decay ``decay_rate``
  0.00 on both networks (l.35, l.242, l.256; its comment suggests 5e-5, which the
  ``weight_decay`` option takes), Adam(1e-4, beta1 0.5) (l.25-26), a batch-norm
  critic (l.102-109) on images.
- ``glsgan-gp-2017-06``: lsgan-gp.py at e54ac88 (to 5f0493b): 10 *
  mean((|L(x1) - L(x2)| / ||x1 - x2||_2 - 1)^2), x1 and x2 on each real-fake segment
  at two mixing weights drawn once per batch (``calc_gradient_penalty2``, l.188-207).
- ``glsgan-gp-2017-07``: lsgan-gp.py at 44f72dd (to d79797c): 10 *
  mean(|L(x1) - L(x2)| / ||x1 - x2||_2), the same points (l.161-178).
  Both divide a (B,1,1,1) difference by a (B,1) distance; under the PyTorch of
  mid-2017 (0.1.12, no broadcasting) that was per pair, as here.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.core.errors import ConfigError
from ganbench.variants.base import Defaults, Preset, Variant, input_gradient, register_variant

GLSGAN_GP = "maple-research-lab/glsgan-gp"
LIPSCHITZ_CONTROLS = ("gradient-at-real", "finite-difference", "finite-difference-slope", "weight-decay")
LOSS_OUTPUTS = ("raw", "relu")  # how L is read off the critic's score: lsgan-gp.py / lsgan.lua


@dataclass(frozen=True)
class LossSensitiveOptions:
    loss_output: str = "raw"  # lsgan-gp.py: raw L; "relu": lsgan.lua's final nn.ReLU
    slope: float = 0.0  # c(a) = max(a, slope a): lsgan-gp.py --slope (0: LS-GAN, 1: WGAN's linear cost)
    margin_scale: float = 2e-4  # lambda in Delta = lambda ||x - G(z)||_1 (both references' --lamb / lambda)
    gamma: float = 0.0  # weight of mean L(x) (lsgan.lua's gamma; absent from lsgan-gp.py at HEAD)
    lipschitz: str = "gradient-at-real"
    gp_weight: float = 10.0  # lsgan-gp.py --gamma, "the scale of gradient penalty"
    weight_decay: float = 0.0  # lipschitz = "weight-decay": lsgan.lua's decay_rate, on both networks

    def __post_init__(self):
        for name, allowed in (("lipschitz", LIPSCHITZ_CONTROLS), ("loss_output", LOSS_OUTPUTS)):
            if getattr(self, name) not in allowed:
                valid = ", ".join(repr(c) for c in allowed)
                raise ConfigError(f"loss-sensitive {name}={getattr(self, name)!r} is unknown; use one of {valid}")
        if not 0.0 <= self.slope <= 1.0:
            raise ConfigError(f"loss-sensitive slope must be in [0, 1] (0: LS-GAN, 1: linear), got {self.slope}")


@register_variant("loss-sensitive")
class LossSensitive(Variant):
    """L step: mean c(Delta + L(x) - L(G(z))) [+ gamma mean L(x)] + Lipschitz term;
    G step: mean L(G(z)). See the module docstring for the reference lines."""

    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="none",
                        source=f"{GLSGAN_GP}@a135b0e lsgan-gp.py:28-36,153-165,233-236")
    default_preset = "glsgan-gp"
    presets = {
        "lsgan-lua": Preset(
            Defaults(n_critic=1, lr=1e-4, betas=(0.5, 0.999), d_norm="batch",
                     source="guojunq/lsgan@b01c33b lsgan.lua:25-35,96-121,219-256"),
            {"loss_output": "relu", "lipschitz": "weight-decay", "weight_decay": 0.0}),
        "glsgan-gp-2017-06": Preset(
            Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="none",
                     source=f"{GLSGAN_GP}@e54ac88 lsgan-gp.py:188-207"),
            {"lipschitz": "finite-difference"}),
        "glsgan-gp-2017-07": Preset(
            Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="none",
                     source=f"{GLSGAN_GP}@44f72dd lsgan-gp.py:161-178"),
            {"lipschitz": "finite-difference-slope"}),
    }
    Options = LossSensitiveOptions

    def __init__(self, **options):
        super().__init__(**options)
        # The gradient at the real batch is penalised through its own graph
        # (create_graph): that critic must stay eager under compile.
        self.double_backward = self.options.lipschitz == "gradient-at-real"

    def loss_of(self, scores: Tensor) -> Tensor:
        """L(x) from the critic's raw score (``loss_output``)."""
        return F.relu(scores) if self.options.loss_output == "relu" else scores

    def margin(self, real: Tensor, fake: Tensor) -> Tensor:
        """Delta_i = lambda ||x_i - G(z_i)||_1 per pair, without gradient."""
        return self.options.margin_scale * (real - fake).detach().flatten(1).abs().sum(dim=1)

    def pair_objective(self, real_scores: Tensor, fake_scores: Tensor, margin: Tensor) -> Tensor:
        """mean_i c(Delta_i + L(x_i) - L(G(z_i))) + gamma mean_i L(x_i)."""
        loss_real, loss_fake = self.loss_of(real_scores).flatten(), self.loss_of(fake_scores).flatten()
        cost = F.leaky_relu(margin + loss_real - loss_fake, self.options.slope).mean()
        return cost + self.options.gamma * loss_real.mean()

    def d_loss(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        loss = self.pair_objective(critic(real), critic(fake), self.margin(real, fake))
        control = self.options.lipschitz
        if control == "gradient-at-real":
            loss = loss + self.options.gp_weight * self.gradient_at_real(critic, real)
        elif control.startswith("finite-difference"):
            slope = self.finite_difference_slope(critic, real, fake)
            term = slope if control == "finite-difference-slope" else (slope - 1.0) ** 2
            loss = loss + self.options.gp_weight * term.mean()
        return loss

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return self.loss_of(fake_scores).mean()

    def gradient_at_real(self, critic: nn.Module, real: Tensor) -> Tensor:
        """mean ||grad_x L(x)||_2 over dim 1 (then batch and any pixels) at the real
        batch: lsgan-gp.py's ``get_direct_gradient_penalty``."""
        grad = input_gradient(lambda x: self.loss_of(critic(x)), real)[1]
        return grad.norm(2, dim=1).mean()

    def finite_difference_slope(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        """|L(x1) - L(x2)| / ||x1 - x2||_2 per pair, x_k = a_k x + (1 - a_k) G(z), with
        a_1, a_2 ~ U[0, 1] drawn once for the whole batch, as lsgan-gp.py draws them."""
        a1, a2 = torch.rand(2, device=real.device)
        x1, x2 = a1 * real + (1 - a1) * fake, a2 * real + (1 - a2) * fake
        diff = (self.loss_of(critic(x1)) - self.loss_of(critic(x2))).flatten().abs()
        return diff / (x1 - x2).flatten(1).norm(2, dim=1).clamp_min(1e-12)

    def weight_decay(self, role: str) -> float:
        """lsgan.lua adds decay_rate * x to the gradients of both L and G."""
        return self.options.weight_decay if self.options.lipschitz == "weight-decay" else 0.0
