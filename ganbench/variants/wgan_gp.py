"""WGAN-GP (Gulrajani et al. 2017, Algorithm 1)."""

from dataclasses import dataclass

from torch import Tensor, nn

from ganbench.variants.base import Defaults, Variant, gradient_penalty, register_variant


@dataclass(frozen=True)
class WganGpOptions:
    # lambda = 10: Algorithm 1 and every experiment of the paper.
    gp_weight: float = 10.0


@register_variant("wgan-gp")
class WganGp(Variant):
    """Critic: D(G(z)) - D(x) + lambda (||grad D(x_hat)||_2 - 1)^2;  G: -D(G(z))."""

    # n_critic = 5, Adam(1e-4, betas (0.5, 0.9)): Algorithm 1 and the reference
    # scripts (igul222/improved_wgan_training, gan_mnist.py / gan_cifar.py).
    # No batch norm in the critic (Sec. 4: the penalty is per sample); layer
    # norm is the drop-in the paper recommends.
    defaults = Defaults(n_critic=5, lr=1e-4, betas=(0.5, 0.9), d_norm="layer")
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

