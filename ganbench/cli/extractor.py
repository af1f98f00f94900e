"""``ganbench extractor``: the domain-classifier feature extractors."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("extractor")
def extractor_group() -> None:
    """Feature extractors used by the image metrics."""


@extractor_group.command("train")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Weights file to write (a JSON card with the recipe and accuracy goes next to it).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory holding the Fashion-MNIST idx files (default: the dataset search order).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of initialisation and batch order.")
@click.option("--epochs", type=int, default=5, show_default=True, help="Training epochs (the recipe uses 5).")
def train_command(out_path: Path, data_dir: Path | None, seed: int, epochs: int) -> None:
    """Train fmnist-cnn with ganbench's fixed recipe (a few minutes on one CPU thread).

    The shipped weights are ganbench/extractors/weights/fmnist_cnn.pt; after
    replacing them on purpose, put the printed sha256 into WEIGHTS_SHA256 in
    ganbench/extractors/fmnist_cnn.py.
    """
    from ganbench.extractors import train_fmnist_extractor

    card = train_fmnist_extractor(out_path, data_dir=data_dir, seed=seed, epochs=epochs)
    click.echo(f"wrote {out_path} and {out_path.with_suffix('.json')}")
    click.echo(f"test accuracy {card['test_accuracy']:.4f}, sha256 {card['sha256']}")
