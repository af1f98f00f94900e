"""Exact per-step FLOPs, derived by hand layer by layer, for every registered
variant on the ring8 MLP and the Fashion-MNIST DCGAN.

Counting rules (torch.utils.flop_counter, which the budget uses):
- a Linear layer's forward is one addmm, 2·B·in·out FLOPs; a convolution's is
  2·B·(output positions)·C_out·C_in·k²; a transposed convolution's is
  2·B·(input positions)·C_in·C_out·k² (FlopCounterMode's ``conv_flop_count``).
  Biases, activations and normalisations count nothing.
- its backward costs the forward once for the input gradient (skipped when the
  layer's input needs no gradient) and once for the weight gradient (skipped
  when the weights need none).

So with c_l the forward cost of layer l, F = Σ c_l of a network:
- critic step = G forward (no grad) + for real and fake: D forward F_D, weight
  grads F_D, input grads F_D - c_D[0] (the batches need no gradient);
- generator step = G forward + D forward + D input grads (all layers, the fake
  carries G's graph; D's weights are frozen) + G weight grads + G input grads
  minus the first layer (z needs no gradient).
Penalties add to the critic step:
- gradient-norm penalty on the raw score (WGAN-GP at x̂; loss-sensitive's default,
  lipschitz="gradient-at-real", at the real batch): forward at x̂ F_D, the
  input gradient F_D (create_graph), the double backward through that gradient
  graph 2·F_D - c_D[-1] (the top layer's incoming gradient is the constant 1 of
  scores.sum()), and the backward of the forward graph reached through the
  activations' second derivatives (LeakyReLU's is a zero tensor, still
  propagated), 2·(F_D - c_D[-1]): every layer below the head. Total 6·F_D - 3·c_D[-1].
- wgan's weight clipping (a clamp) and hinge's spectral norm count nothing: the
  power iteration is matrix-vector products, which FlopCounterMode does not
  count (about 1/B of a layer's forward, left out of every budget alike).
- R3GAN's R1 + R2 (at the real and the fake batch): the penalty's gradient comes
  from the loss's own forward pass, whose input now needs a gradient. Per batch:
  forward F_D, input gradient F_D (create_graph), double backward through it
  2·F_D - c_D[-1], and one backward of the forward graph for the loss and the
  penalty together, weights and inputs 2·F_D: 6·F_D - c_D[-1] in place of the
  unpenalised 3·F_D - c_D[0]. Its generator step scores a real batch too: + F_D.
- the finite-difference penalties (loss-sensitive, lipschitz="finite-difference"
  and "finite-difference-slope"): two more critic forwards + backwards on points
  that need no gradient: 2·(3·F_D - c_D[0]).

Every registered variant must have an entry in PENALTY: a new variant without
one fails here (it is parametrised over the registry, not over a fixed list).
"""

import pytest

from ganbench.config.run import Budget, RunConfig, resolve
from ganbench.datasets import load_dataset
from ganbench.training.budget import measure_step_flops
from ganbench.training.trainer import build_run
from ganbench.variants import VARIANTS, make_variant
from ganbench.variants.loss_sensitive import LIPSCHITZ_CONTROLS

B = 64  # the default batch size


def ring8_layers(width=128, z_dim=2):
    """Forward FLOPs of each matmul of the MLP generator and critic (depth 3)."""
    g = [2 * B * z_dim * width] + [2 * B * width * width] * 2 + [2 * B * width * 2]
    d = [2 * B * 2 * width] + [2 * B * width * width] * 2 + [2 * B * width * 1]
    return g, d


def fmnist_layers(width=8, z_dim=64):
    """28x28x1: G = Linear(z, 2w·7·7), ConvT(2w->w) 7->14, ConvT(w->1) 14->28;
    D = Conv(1->w) 28->14, Conv(w->2w) 14->7, Linear(2w·7·7, 1). Kernels 4x4."""
    g = [2 * B * z_dim * 2 * width * 49, 2 * B * 7 * 7 * 2 * width * width * 16, 2 * B * 14 * 14 * width * 1 * 16]
    d = [2 * B * 14 * 14 * width * 1 * 16, 2 * B * 7 * 7 * 2 * width * width * 16, 2 * B * 2 * width * 49 * 1]
    return g, d


def no_penalty(d):
    return 0


def raw_score_gradient_penalty(d):
    return 6 * sum(d) - 3 * d[-1]


def finite_difference_penalty(d):
    return 2 * (3 * sum(d) - d[0])


def r1_r2_penalty(d):
    return 2 * (6 * sum(d) - d[-1]) - 2 * (3 * sum(d) - d[0])


# (variant, options) -> the critic step's penalty FLOPs as a function of D's layers.
PENALTY = {
    ("vanilla", ()): no_penalty,
    ("vanilla-mm", ()): no_penalty,
    ("lsgan", ()): no_penalty,
    ("wgan", ()): no_penalty,
    ("hinge", ()): no_penalty,
    ("wgan-gp", ()): raw_score_gradient_penalty,
    ("loss-sensitive", (("lipschitz", "gradient-at-real"),)): raw_score_gradient_penalty,
    ("loss-sensitive", (("lipschitz", "finite-difference"),)): finite_difference_penalty,
    ("loss-sensitive", (("lipschitz", "finite-difference-slope"),)): finite_difference_penalty,
    ("loss-sensitive", (("lipschitz", "weight-decay"),)): no_penalty,
    ("r3gan", ()): r1_r2_penalty,
}
#: Generator-step FLOPs beyond the fake's forward and backward: RpGAN's D(x') forward.
G_EXTRA = {"r3gan": lambda d: sum(d)}


def table_key(variant, options):
    """(name, the Lipschitz control if the variant has one): options left at their
    defaults resolve to the default control."""
    lipschitz = getattr(make_variant(variant, **options).options, "lipschitz", None)
    return variant, (("lipschitz", lipschitz),) if lipschitz else ()


def analytic_step_flops(variant, options, g, d):
    """The hand count of one critic step and one generator step."""
    key = table_key(variant, options)
    if key not in PENALTY:
        pytest.fail(f"no analytic FLOP count for {key}: add its penalty to tests/test_flops.py PENALTY")
    gf, df = sum(g), sum(d)
    d_step = gf + 2 * (df + df + df - d[0]) + PENALTY[key](d)
    g_step = gf + df + df + gf + (gf - g[0]) + G_EXTRA.get(variant, no_penalty)(d)
    return {"d_step": d_step, "g_step": g_step}


def cases():
    """Every registered variant, loss-sensitive once per Lipschitz control."""
    for name in VARIANTS.names():
        if name == "loss-sensitive":
            yield from ((name, {"lipschitz": c}) for c in LIPSCHITZ_CONTROLS)
        else:
            yield name, {}


CASES = list(cases())
IDS = [v + "".join(f"-{o}" for o in opts.values()) for v, opts in CASES]


def measured(variant, options, dataset, **kw):
    cfg = RunConfig(variant, dataset, 0, Budget.parse("1e9flops"), variant_options=options, **kw)
    data = load_dataset(dataset, "train", kw.get("data_dir"))
    run = build_run(resolve(cfg, data.info.kind), data)
    return measure_step_flops(run.generator, run.critic, run.variant, run.real_batch, run.sample_z)


def test_every_variant_and_option_has_an_analytic_count():
    keys = {table_key(v, o) for v, o in CASES}
    assert keys == set(PENALTY), "PENALTY and the registry disagree: update the table"


@pytest.mark.parametrize("variant,options", CASES, ids=IDS)
def test_ring8_mlp_step_flops_are_exact(variant, options):
    assert measured(variant, options, "ring8") == analytic_step_flops(variant, options, *ring8_layers())


@pytest.fixture(scope="module")
def fmnist_dir(tmp_path_factory):
    from tests.test_datasets import write_mnist_like

    return str(write_mnist_like(tmp_path_factory.mktemp("fm"), n_train=B))


@pytest.mark.parametrize("variant,options", CASES, ids=IDS)
def test_fashion_mnist_dcgan_step_flops_are_exact(variant, options, fmnist_dir):
    got = measured(variant, options, "fashion-mnist", width=8, data_dir=fmnist_dir)
    assert got == analytic_step_flops(variant, options, *fmnist_layers(width=8))


def test_wgan_gp_penalty_costs_what_the_hand_count_says():
    """The penalty alone, at the default ring8 widths: 6·F_D - 3·c_head FLOPs,
    i.e. the interpolate forward, the input gradient and the double backward."""
    g, d = ring8_layers()
    penalty = measured("wgan-gp", {}, "ring8")["d_step"] - measured("lsgan", {}, "ring8")["d_step"]
    assert penalty == 6 * sum(d) - 3 * d[-1] == 25_411_584


def test_r3gan_critic_step_costs_about_twice_a_plain_one():
    """R1 + R2 at the default ring8 widths: the critic step minus G's forward is
    2·(6·F_D - c_head) against 2·(3·F_D - c_first) without them, the ~2x per step
    R3GAN's users report (brownvc/R3GAN issue 9) before any architecture."""
    g, d = ring8_layers()
    r3gan, plain = measured("r3gan", {}, "ring8"), measured("vanilla", {}, "ring8", d_norm="none")
    assert r3gan["d_step"] - sum(g) == 2 * (6 * sum(d) - d[-1]) == 50_888_704
    assert plain["d_step"] - sum(g) == 2 * (3 * sum(d) - d[0])
    assert r3gan["g_step"] - plain["g_step"] == sum(d)  # the generator step's D(x') forward
