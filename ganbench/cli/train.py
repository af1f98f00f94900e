"""``ganbench train``: one run, one directory."""

from pathlib import Path

import click

from ganbench.errors import ConfigError


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
              help="Compute allowance: FLOPs ('2e11flops', '50GFLOPs') or device seconds ('600s').")
@click.option("--max-g-steps", type=int, default=None, help="Optional cap on generator steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (same seed, same record).")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Run directory (record, checkpoints, samples).")
@click.option("--batch-size", type=int, default=64, show_default=True, help="Batch size for both networks.")
@click.option("--width", type=int, default=None, help="Model width (MLP units / DCGAN base channels).")
@click.option("--lr", type=float, default=None, help="Adam learning rate (default: the variant's).")
@click.option("--n-critic", type=int, default=None, help="Critic steps per generator step (default: the variant's).")
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
def train_command(variant, dataset, budget, max_g_steps, seed, out, batch_size, width, lr, n_critic, options,
                  device, threads, data_dir, evaluate, force) -> None:
    """Train one VARIANT on one DATASET under a compute BUDGET.

    Resumes from the checkpoint in --out if the run was interrupted; a
    finished run is not redone unless --force.
    """
    import torch

    from ganbench.config import Budget, RunConfig
    from ganbench.datasets import DATASETS
    from ganbench.trainer import train
    from ganbench.variants import VARIANTS

    VARIANTS.get(variant), DATASETS.get(dataset)  # unknown names fail before any work
    if device == "cpu":
        torch.set_num_threads(threads)
    config = RunConfig(
        variant=variant, dataset=dataset, seed=seed, budget=Budget.parse(budget, max_g_steps),
        batch_size=batch_size, width=width, lr=lr, n_critic=n_critic, variant_options=parse_options(options),
        device=device, data_dir=str(data_dir) if data_dir else None,
    )
    record = train(config, out, force=force, progress=True)
    if evaluate:
        from ganbench.evaluate import evaluate_run

        record = evaluate_run(out)
    spent = record["spent"]
    click.echo(f"{record['status']}: {spent['g_steps']} G steps, {spent['d_steps']} D steps, "
               f"{spent['flops']:.3g} FLOPs, {spent['seconds']:.1f} s -> {out}/record.json")
    if record.get("diverged"):
        d = record["diverged"]
        click.echo(f"diverged at generator step {d['g_step']} ({d['loss']} = {d['value']})")
