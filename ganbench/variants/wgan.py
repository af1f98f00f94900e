"""WGAN with weight clipping (Arjovsky, Chintala & Bottou 2017, Algorithm 1),
as the authors' code runs it: martinarjovsky/WassersteinGAN @ f7a01e8, main.py.

Its sign convention is flipped (the critic there minimises D(x) - D(G(z)) and G
minimises D(G(z)), l.201-226); the objective below is the paper's, the same game
with the critic negated. main.py clamps every critic parameter (batch-norm
affines too) to [-0.01, 0.01] *before* each critic step (l.185-186), so the
generator step after the last critic step sees that step's unclipped update;
Algorithm 1 clips after each update (option ``clip_before_step = false``).
"""

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganbench.variants.base import Defaults, Variant, register_variant

# Algorithm 1: c = 0.01 (main.py: --clamp_lower -0.01, --clamp_upper 0.01).
CLIP = 0.01
# main.py: `if gen_iterations < 25 or gen_iterations % 500 == 0: Diters = 100`,
# gen_iterations counting generator steps from 0: the critic is trained close
# to optimality at the start and now and then.
WARMUP_G_STEPS, EVERY_G_STEPS, SCHEDULE_CRITIC_STEPS = 25, 500, 100


@dataclass(frozen=True)
class WganOptions:
    clip: float = CLIP
    clip_before_step: bool = True  # main.py l.185-186; false: after each update, as Algorithm 1 reads
    # The reference code's 100-critic-step schedule (on: as the authors ran it);
    # off: n_critic critic steps before every generator step, as Algorithm 1 reads.
    schedule: bool = True


@register_variant("wgan")
class Wgan(Variant):
    """Critic: D(G(z)) - D(x), weights clamped to [-c, c] before every critic step
    (main.py; after every update with ``clip_before_step = false``); G: -D(G(z))."""

    # Algorithm 1: RMSProp, alpha = 5e-5, n_critic = 5 (main.py: --lrD/--lrG
    # 0.00005 l.33-34, --Diters 5 l.42, optim.RMSprop with torch's defaults
    # l.161-162). Batch norm in the critic as in their DCGAN experiments
    # (models/dcgan.py l.13-36: --noBN only changes G). betas are unused by RMSprop.
    defaults = Defaults(n_critic=5, lr=5e-5, betas=(0.5, 0.999), d_norm="batch", optimizer="rmsprop",
                        source="martinarjovsky/WassersteinGAN@f7a01e8 main.py:33-42,161-162,176-186")
    default_preset = "wassersteingan"
    Options = WganOptions

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.mean() - real_scores.mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()

    def critic_steps(self, g_step: int, n_critic: int) -> int:
        """100 critic steps for generator steps 0-24 and every 500th (schedule on)."""
        if self.options.schedule and (g_step < WARMUP_G_STEPS or g_step % EVERY_G_STEPS == 0):
            return SCHEDULE_CRITIC_STEPS
        return n_critic

    def before_d_step(self, critic: nn.Module) -> None:
        """main.py's clamp, before each critic step (option ``clip_before_step``)."""
        if self.options.clip_before_step:
            self.clip(critic)

    def after_d_step(self, critic: nn.Module) -> None:
        """Algorithm 1's clip, after each critic update (``clip_before_step = false``)."""
        if not self.options.clip_before_step:
            self.clip(critic)

    def clip(self, critic: nn.Module) -> None:
        """Clip every critic parameter (batch-norm affines too, as main.py does) to [-c, c]."""
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-self.options.clip, self.options.clip)
