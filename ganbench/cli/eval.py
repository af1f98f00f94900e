"""``ganbench eval``: score a finished run's snapshots into its record."""

from pathlib import Path

import click


@click.command("eval")
@click.argument("run_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--snapshots", type=click.Choice(["all", "last"]), default="all", show_default=True,
              help="Score every budget-fraction snapshot (metric-vs-compute curves) or only the final one.")
@click.option("--n-samples", type=int, default=None,
              help="Generated samples per snapshot [default: 2500 for 2-D data (PacGAN), 10000 for images (Lucic et al.)].")
@click.option("--n-real", type=int, default=None, help="Real test samples [default: the whole test split].")
@click.option("--extractor", type=click.Choice(["fmnist-cnn", "inception-v3-compat", "dinov2-vit-l-14"]),
              default=None, help="Feature extractor for FID/IS/KID (dinov2-vit-l-14: FD, KID, precision/recall, "
              "density/coverage; no IS) [default: the dataset's shipped classifier, else Inception].")
@click.option("--extractor-weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Weights file of the chosen extractor, e.g. dinov2_vitl14_pretrain.pth "
              "(else $TORCH_HOME/hub/checkpoints, else download).")
@click.option("--inception-weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Path to pt_inception-2015-12-05 weights (else $TORCH_HOME/hub/checkpoints, else download).")
@click.option("--force", is_flag=True, help="Re-score snapshots that already have metrics.")
def eval_command(run_dir, snapshots, n_samples, n_real, extractor, extractor_weights, inception_weights,
                 force) -> None:
    """Score the snapshots of the run in RUN_DIR and write the metrics into its record.

    Scoring a scored run again with another --extractor adds that extractor's
    numbers next to the ones there (each key names its extractor).
    """
    import torch

    from ganbench.evaluation.evaluate import evaluate_run

    torch.set_num_threads(1)
    record = evaluate_run(run_dir, n_samples=n_samples, n_real=n_real, extractor=extractor, snapshots=snapshots,
                          inception_weights=str(inception_weights) if inception_weights else None,
                          extractor_weights=str(extractor_weights) if extractor_weights else None, force=force,
                          progress=True)
    click.echo(f"{record['run_id']}: {record['status']}")
    for key, value in sorted(record["metrics"].items()):
        click.echo(f"  {key:<28} {value:.4g}")
