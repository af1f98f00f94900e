"""R3GAN's objective (Huang et al. 2024, "The GAN is dead; long live the GAN! A
Modern GAN Baseline", NeurIPS): the relativistic pairing loss RpGAN with
zero-centred gradient penalties on real (R1) and fake (R2) data.

    critic:    mean_i [ f(D(x_i) - D(G(z_i))) + gamma/2 (R1_i + R2_i) ]
    generator: mean_i f(D(G(z_i)) - D(x'_i)),        f(t) = softplus(-t)

with R1_i = ||grad_x D(x_i)||^2 and R2_i = ||grad D(G(z_i))||^2, each the sum of
squares over all of a sample's dimensions. As brownvc/R3GAN at 19a7ddf computes it
(``R3GAN/Trainer.py``): the penalty is the gradient of the *sum* of the batch's
logits w.r.t. the batch (l.10-12), taken each critic step (no lazy regularisation)
on the same forward pass the loss uses (l.29-36), added per sample before the
batch mean (l.41-42). The generator step pairs its fakes with a *fresh* real batch
(``training_loop.py`` l.287-305: a second fetch for the G phase), without gradient
through it (Trainer.py l.16; the critic's weights are frozen in that phase,
``training_loop.py`` l.178, l.323/326); fakes
are scored first, then reals (l.18-19).

Default: the repository's CIFAR10 preset, the small-image one (``train.py``
l.178-196): gamma 0.05, Adam lr 2e-4, beta1 0 and eps 1e-8 (l.159-160), beta2
the schedule's start 0.9 (l.196, written into Adam each step at ``training_loop.py``
l.329-331), one critic step then one generator step per batch (``training_loop.py``
l.219-227, l.317-325), no normalisation in the critic (``R3GAN/Networks.py`` has no
normalisation layer), and an EMA of the generator, which the reference scores
(FID on G_ema, ``training_loop.py`` l.427),
whose half-life ramps from 0 to 5e6 images along a cosine over 2e7 images
(l.189-192; ``training_loop.py`` l.29-38, l.349-355), which ganbench's EMA
option reproduces (training/ema.py). The other presets differ in gamma and the
EMA (``ffhq-64`` l.198-212, ``ffhq-256`` l.214-228, ``imagenet-32`` l.230-247,
``imagenet-64`` l.249-266).

Not reproduced (named, as every variant's deviations are):
- the cosine decays of lr (2e-4 -> 5e-5), Adam beta2 (0.9 -> 0.99) and gamma
  (0.05 -> 0.005) over 2e7 images (train.py l.194-196): ganbench has no schedules,
  so they stay at their starting values. A quick ring8 run makes 1.3e6 generator
  samples (4,961 steps of 256), where the reference's cosine has moved them by 1 %.
- the batch of 512 (README.md l.36): ganbench's batch size is the benchmark's.
- with ``update = "simultaneous"`` (no benchmark uses it) the generator pairs its
  fakes with the critic step's real batch (training/update.py), not a fresh one.
- ADA augmentation, x-flips and class conditioning (README.md l.36), and the
  architecture: only the objective, its penalties, the optimiser and the EMA.
"""

from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from ganbench.core.errors import ConfigError
from ganbench.variants.base import Defaults, Preset, Variant, input_gradient, register_variant

R3GAN = "brownvc/R3GAN@19a7ddf"
# What every preset shares: Adam(2e-4, (0, 0.9)) at the schedules' starting values, one critic step.
_COMMON = dict(n_critic=1, lr=2e-4, betas=(0.0, 0.9), d_norm="none")
_NOTE = "lr, beta2 and gamma held at their schedules' starting values"


def _preset(gamma: float, ema_images: float, ramp_images: float, lines: str) -> Preset:
    source = f"{R3GAN} train.py:159-160,{lines} (EMA half-life {ema_images:g} samples, ramp {ramp_images:g}; {_NOTE})"
    return Preset(Defaults(**_COMMON, ema_half_life=ema_images, ema_ramp=ramp_images, source=source),
                  {"gamma": gamma})


@dataclass(frozen=True)
class R3ganOptions:
    # The R1 + R2 weight is gamma / 2; CIFAR10's gamma_scheduler base_value (train.py l.195).
    gamma: float = 0.05


def penalised_scores(critic: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """(D(x), ||grad_x D(x)||^2 per sample) from one forward pass: the gradient of the
    summed logits w.r.t. the batch, squared and summed over each sample's dimensions,
    with a graph so the penalty trains the critic."""
    scores, grad = input_gradient(critic, x)
    scores = scores.flatten()
    return scores, grad.square().flatten(1).sum(dim=1)


@register_variant("r3gan")
class R3gan(Variant):
    """Critic: mean softplus(-(D(x) - D(G(z)))) + gamma/2 (R1 + R2);
    G: mean softplus(-(D(G(z)) - D(x'))) on a fresh real batch x'. See the module docstring."""

    defaults = _preset(0.05, 5000 * 1000, 2e7, "178-196").defaults
    default_preset = "cifar10"
    presets = {
        "ffhq-64": _preset(2.0, 500 * 1000, 2e7, "198-212"),
        "ffhq-256": _preset(150.0, 500 * 1000, 2e7, "214-228"),
        "imagenet-32": _preset(0.5, 50000 * 1000, 2e8, "230-247"),
        "imagenet-64": _preset(1.0, 50000 * 1000, 2e8, "249-266"),
    }
    Options = R3ganOptions
    double_backward = True
    g_uses_real = True

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """The critic's RpGAN term alone: mean softplus(-(D(x_i) - D(G(z_i))))."""
        return F.softplus(-(real_scores.flatten() - fake_scores.flatten())).mean()

    def g_pair_objective(self, fake_scores: Tensor, real_scores: Tensor) -> Tensor:
        """The generator's: mean softplus(-(D(G(z_i)) - D(x'_i)))."""
        return F.softplus(-(fake_scores.flatten() - real_scores.flatten())).mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        raise ConfigError("r3gan's generator loss pairs each fake with a real sample: call "
                          "g_pair_objective(fake_scores, real_scores) or g_step_loss(critic, fake, real_batch)")

    def d_loss(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        real_scores, r1 = penalised_scores(critic, real)
        fake_scores, r2 = penalised_scores(critic, fake)
        # mean over pairs of (RpGAN + gamma/2 (R1 + R2)), Trainer.py l.41-42, split into its two means
        return self.d_objective(real_scores, fake_scores) + self.options.gamma / 2 * (r1 + r2).mean()

    def g_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        raise ConfigError("r3gan's generator loss needs a real batch: call g_step_loss(critic, fake, real_batch)")

    def g_step_loss(self, critic: nn.Module, fake: Tensor, real_batch) -> Tensor:
        fake_scores = critic(fake)  # fakes first, as Trainer.py l.18-19
        return self.g_pair_objective(fake_scores, critic(real_batch().detach()))
