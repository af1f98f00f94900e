"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1)."""

from dataclasses import dataclass

from torch import Tensor, nn

from ganbench.variants.base import Defaults, Preset, Variant, gradient_penalty, register_variant

IMPROVED_WGAN = "igul222/improved_wgan_training@fa66c57"


@dataclass(frozen=True)
class WganGpOptions:
    # lambda = 10: Algorithm 1 and every experiment of the paper.
    gp_weight: float = 10.0


@register_variant("wgan-gp")
class WganGp(Variant):
    """Critic: D(G(z)) - D(x) + lambda (||grad D(x_hat)||_2 - 1)^2;  G: -D(G(z))."""

    # The authors' MNIST script, gan_mnist.py: lambda 10 (l.26), 5 critic steps
    # (l.25), Adam(1e-4, (0.5, 0.9)) for both networks (l.150-159), no
    # normalisation in the critic (batch norm only in its `wgan` mode, l.89-95;
    # Sec. 4: the penalty is per sample). x_hat with one alpha per sample (l.138-142).
    defaults = Defaults(n_critic=5, lr=1e-4, betas=(0.5, 0.9), d_norm="none",
                        source=f"{IMPROVED_WGAN} gan_mnist.py:24-26,89-95,138-159")
    default_preset = "gan_mnist"
    presets = {
        # The toy script (ring8 / grid25 use it): lambda 0.1, "Smaller lambda makes things
        # faster for toy tasks, but isn't necessary if you increase CRITIC_ITERS enough"
        # (l.23-24), otherwise as gan_mnist.py.
        "gan_toy": Preset(Defaults(n_critic=5, lr=1e-4, betas=(0.5, 0.9), d_norm="none",
                                   source=f"{IMPROVED_WGAN} gan_toy.py:20-27,72-105"), {"gp_weight": 0.1}),
        # The 64x64 script: layer norm over (C, H, W) in the critic (l.84-88), Adam beta1 0 (l.542-545).
        "gan_64x64": Preset(Defaults(n_critic=5, lr=1e-4, betas=(0.0, 0.9), d_norm="layer",
                                     source=f"{IMPROVED_WGAN} gan_64x64.py:29-33,84-88,490-500,542-545")),
    }
    Options = WganGpOptions
    double_backward = True

    def d_objective(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.mean() - real_scores.mean()

    def g_objective(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.mean()

    def d_loss(self, critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
        return self.d_objective(critic(real), critic(fake)) + self.options.gp_weight * gradient_penalty(
            critic, real, fake
        )

