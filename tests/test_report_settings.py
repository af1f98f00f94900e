"""Per-benchmark variant settings: from the benchmark file into the run configs,
and from the records into the report."""

import json
import shutil
from pathlib import Path

from ganbench.config.benchmarks import load_benchmark
from ganbench.config.run import resolve
from ganbench.report.load import load_records
from ganbench.report.settings import settings_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_toy_benchmarks_run_wgan_gp_with_the_toy_lambda():
    for path in ("benchmarks/ring8.toml", "benchmarks/grid25.toml",
                 "benchmarks/stability/ring8.toml", "benchmarks/stability/grid25.toml"):
        bench = load_benchmark(ROOT / path)
        configs = {c.variant: resolve(c, "points") for c in bench.run_configs("smoke")}
        assert configs["wgan-gp"].preset == "gan_toy", path
        assert configs["wgan-gp"].variant_options == {"gp_weight": 0.1}, path
        assert configs["vanilla"].variant_options == {}, path


def copy_record(src: Path, dst: Path, spent=None, **config) -> None:
    record = json.loads(src.read_text())
    record["config"].update(config)
    record["spent"].update(spent or {})
    record["seed"] = config.get("seed", record["seed"])
    dst.parent.mkdir(parents=True)
    dst.write_text(json.dumps(record))


def test_report_lists_the_settings_each_variant_ran_with(tmp_path):
    src = ROOT / "results/runs/ring8/wgan-gp/seed0/record.json"
    runs = tmp_path / "runs/ring8/wgan-gp"
    copy_record(src, runs / "seed0/record.json", variant_options={"gp_weight": 0.1})
    copy_record(src, runs / "seed1/record.json", variant_options={"gp_weight": 0.1}, seed=1)
    copy_record(src, runs / "seed2/record.json", variant_options={}, seed=2)
    text = settings_markdown(load_records(tmp_path))
    assert "### ring8" in text
    base = "preset=gan_toy, n_critic=5, lr=0.0001, betas=(0.5, 0.9), d_norm=none"
    assert f"| wgan-gp | {base}, gp_weight=0.1 (seeds 0, 1) |" in text
    assert f"| wgan-gp | {base} (seeds 2) |" in text


def test_written_report_has_the_settings_section(tmp_path):
    from ganbench.report import write_report

    shutil.copytree(ROOT / "results/runs/ring8", tmp_path / "runs/ring8")
    write_report(tmp_path)
    readme = (tmp_path / "README.md").read_text()
    assert "## Variant settings" in readme and "| vanilla | preset=dcgan, n_critic=1, lr=0.0002, betas=(0.5, 0.999), d_norm=none |" in readme


def test_settings_give_the_median_steps_the_budget_bought(tmp_path):
    src = ROOT / "results/runs/ring8/wgan/seed0/record.json"
    runs = tmp_path / "runs/ring8/wgan"
    for seed, (g, d) in enumerate([(8, 800), (30, 1200), (10, 1000)]):
        copy_record(src, runs / f"seed{seed}/record.json", spent={"g_steps": g, "d_steps": d}, seed=seed)
    text = settings_markdown(load_records(tmp_path))
    assert "| variant | settings | steps (G / D) |" in text
    assert "| wgan | preset=wassersteingan, n_critic=5, lr=5e-05, betas=(0.5, 0.999), d_norm=none | 10 / 1000 |" in text
