"""WGAN with weight clipping (Arjovsky, Chintala & Bottou 2017, Algorithm 1).

Reference code: martinarjovsky/WassersteinGAN, main.py (PyTorch). Its sign
convention is flipped (the critic there minimises D(x) - D(G(z)) and G
minimises D(G(z))); the objective below is the paper's, which is the same
game with the critic negated.
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
    # The reference code's 100-critic-step schedule (on: as the authors ran it);
    # off: n_critic critic steps before every generator step, as Algorithm 1 reads.
    schedule: bool = True


@register_variant("wgan")
class Wgan(Variant):
    """Critic: D(G(z)) - D(x), weights clipped to [-c, c] after every critic step;
    G: -D(G(z))."""

    # Algorithm 1: RMSProp, alpha = 5e-5, n_critic = 5 (main.py: --lrD/--lrG
    # 0.00005, --Diters 5, optim.RMSprop with torch's defaults). Batch norm in
    # the critic as in their DCGAN experiments (main.py: DCGAN_D unless --noBN
    # or --mlp_D). betas are unused by RMSprop.
    defaults = Defaults(n_critic=5, lr=5e-5, betas=(0.5, 0.999), d_norm="batch", optimizer="rmsprop")
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

    def after_d_step(self, critic: nn.Module) -> None:
        """Clip every critic parameter (batch-norm affines too, as main.py does) to [-c, c].

        Algorithm 1 clips after each update; main.py clamps before each critic
        step instead, which differs only in leaving the initial weights and the
        last update before a generator step unclipped."""
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(-self.options.clip, self.options.clip)
