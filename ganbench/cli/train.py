"""``ganbench train``: one run, one directory."""

from pathlib import Path

import click

from ganbench.config.run import D_NORMS
from ganbench.core.errors import ConfigError


def parse_options(pairs: tuple[str, ...]) -> dict:
    """KEY=VALUE pairs -> dict, values parsed as TOML scalars (numbers, strings, booleans)."""
    import tomllib

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {pair!r} must look like KEY=VALUE, e.g. gp_weight=5")
        try:
            options[key] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            options[key] = value  # a bare word such as weight-decay
    return options


@click.command("train")
@click.option("--variant", required=True, help="Registered variant name (see `ganbench list`).")
@click.option("--dataset", required=True, help="Registered dataset name (see `ganbench list`).")
@click.option("--budget", required=True,
              help="Compute allowance: FLOPs ('2e11flops', '50GFLOPs'), device seconds ('600s'), "
                   "epochs over the training split ('400epochs') or generator steps ('5000steps').")
@click.option("--max-g-steps", type=int, default=None, help="Optional cap on generator steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same record).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory (record, checkpoints, samples).")
@click.option("--batch-size", type=int, default=64, show_default=True, help="Batch size for both networks.")
@click.option("--width", type=int, default=None, help="Model width (MLP units / DCGAN base channels).")
@click.option("--preset", default=None,
              help="A named reference configuration of the variant (defaults and options; `ganbench list` shows "
                   "each with its source). Default: the variant's default one. Explicit options override it.")
@click.option("--lr", type=float, default=None, help="Adam learning rate of both networks (default: the variant's).")
@click.option("--n-critic", type=int, default=None, help="Critic steps per generator step (default: the variant's).")
@click.option("--z-dim", type=int, default=None, help="Latent size (default: 2 for 2-D data, 64 for images).")
@click.option("--betas", type=(float, float), default=None, help="Adam betas of both networks, e.g. --betas 0.5 0.999.")
@click.option("--lr-g", type=float, default=None, help="Generator learning rate (overrides --lr).")
@click.option("--lr-d", type=float, default=None, help="Critic learning rate (overrides --lr).")
@click.option("--betas-g", type=(float, float), default=None, help="Generator Adam betas (overrides --betas).")
@click.option("--betas-d", type=(float, float), default=None, help="Critic Adam betas (overrides --betas).")
@click.option("--d-norm", type=click.Choice(D_NORMS), default=None,
              help="Critic normalisation: batch or layer (DCGAN critics only: the 2-D MLP critic has no normalisation "
                   "layer), spectral (any critic), none. Default: the variant's, or none where the critic cannot have it.")
@click.option("--g-width", type=int, default=None, help="Generator width (overrides --width).")
@click.option("--d-width", type=int, default=None, help="Critic width; maxout: units per layer (overrides --width).")
@click.option("--g-depth", type=int, default=None, help="MLP generator hidden layers (default 3).")
@click.option("--d-depth", type=int, default=None, help="MLP critic hidden layers (default 3).")
@click.option("--g-batch-norm", is_flag=True, default=False, help="MLP generator: batch norm before each ReLU (PacGAN).")
@click.option("--d-maxout-pieces", type=int, default=None, help="MLP critic: maxout layers of this many pieces (PacGAN: 5).")
@click.option("--init-std", type=float, default=None, help="Weights ~ N(0, std^2), biases 0 (PacGAN: 0.02; default: PyTorch's).")
@click.option("--pack", type=int, default=1, show_default=True, help="PacGAN's m: the critic scores m samples at once.")
@click.option("--ema-half-life", type=float, default=None,
              help="EMA of the generator, scored in its place: half-life in generated samples (0: off; "
                   "default: the variant's, on for r3gan only).")
@click.option("--ema-ramp", type=float, default=None,
              help="EMA half-life ramp: the half-life grows as in R3GAN/StyleGAN over this many samples (0: none).")
@click.option("--log-every", type=int, default=10, show_default=True, help="Generator steps between loss-trace points.")
@click.option("--checkpoint-every", type=int, default=200, show_default=True, help="Generator steps between checkpoints.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE",
              help="Variant option, repeatable, e.g. --option gp_weight=5 --option coding='-1-1-0'.")
@click.option("--device", default="cpu", show_default=True, help="torch device, e.g. cpu or cuda:0.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch threads on CPU (1 is fastest per process for these models).")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Directory with dataset files (searched before system packages and downloads).")
@click.option("--eval/--no-eval", "evaluate", default=False, show_default=True,
              help="Score every snapshot after training.")
@click.option("--force", is_flag=True, help="Delete what is in --out and train from scratch.")
def train_command(variant, dataset, budget, max_g_steps, seed, out, options, device, threads, data_dir, evaluate, force,
                  **settings) -> None:
    """Train one VARIANT on one DATASET under a compute BUDGET.

    Resumes from the checkpoint in --out if the run was interrupted; a
    finished run is not redone unless --force.
    """
    import torch

    from ganbench.config.run import Budget, RunConfig
    from ganbench.datasets import DATASETS
    from ganbench.training.trainer import train
    from ganbench.variants import VARIANTS

    VARIANTS.get(variant), DATASETS.get(dataset)  # unknown names fail before any work
    if device == "cpu":
        torch.set_num_threads(threads)
    config = RunConfig(
        variant=variant, dataset=dataset, seed=seed, budget=Budget.parse(budget, max_g_steps),
        variant_options=parse_options(options), device=device, data_dir=str(data_dir) if data_dir else None,
        **settings,  # every other option is a RunConfig field of the same name
    )
    record = train(config, out, force=force, progress=True)
    if evaluate:
        from ganbench.evaluation.evaluate import evaluate_run

        record = evaluate_run(out)
    spent = record["spent"]
    click.echo(f"{record['status']}: {spent['g_steps']} G steps, {spent['d_steps']} D steps, "
               f"{spent['flops']:.3g} FLOPs, {spent['seconds']:.1f} s -> {out}/record.json")
    if record.get("diverged"):
        d = record["diverged"]
        click.echo(f"diverged at generator step {d['g_step']} ({d['loss']} = {d['value']})")
