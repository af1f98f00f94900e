"""``ganbench list``: registered variants, datasets and benchmark files."""

from pathlib import Path

import click


@click.command("list")
@click.option("--benchmarks-dir", type=click.Path(path_type=Path), default=Path("benchmarks"), show_default=True,
              help="Directory of benchmark TOML files.")
def list_command(benchmarks_dir: Path) -> None:
    """List variants (with their defaults and the reference each default comes
    from, then their other named presets), datasets and benchmarks, and where each
    variant and dataset comes from (builtin, an entry point or a plugin module)."""
    from ganbench.core.plugins import origin
    from ganbench.datasets import DATASETS
    from ganbench.variants import VARIANTS

    click.echo("variants:")
    for name in VARIANTS.names():
        cls = VARIANTS.get(name)
        click.echo(f"  {name:<16} [{origin('variant', name)}]")
        for preset_name in cls.preset_names():
            preset = cls.preset(preset_name)
            d, options = preset.defaults, "".join(f" {k}={v}" for k, v in preset.options.items())
            mark = "default" if preset_name == cls.default_preset else "preset"
            click.echo(f"    {mark} {preset_name}: n_critic={d.n_critic} lr={d.lr:g} betas={tuple(d.betas)} "
                       f"critic norm={d.d_norm} optimizer={d.optimizer}{options}")
            if d.source:
                click.echo(f"      source: {d.source}")
    click.echo("  (critic norm is the DCGAN critic's, on image datasets; the 2-D MLP critic has none, "
               "or spectral norm when asked)")
    click.echo("datasets:")
    for name in DATASETS.names():
        doc = ((DATASETS.get(name).__doc__ or "").strip().splitlines() or [""])[0]
        click.echo(f"  {name:<22} {doc} [{origin('dataset', name)}]")
    for _, form in DATASETS.families.values():
        click.echo(f"  {form}  your own images (docs/benchmarks-and-profiles.md) [builtin]")
    click.echo(f"benchmarks ({benchmarks_dir}):")
    files = sorted(benchmarks_dir.glob("*.toml")) if benchmarks_dir.is_dir() else []
    for path in files:
        click.echo(f"  {path.stem}")
    if not files:
        click.echo("  (none found)")
