"""Variants and datasets from outside the package: a module named by --plugin /
GANBENCH_PLUGINS, or an installed distribution's entry points."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
"""An out-of-tree objective: least squares with -1/1 targets, written by a user."""
from ganbench.variants import Defaults, Variant, register_variant


@register_variant("my-objective")
class MyObjective(Variant):
    defaults = Defaults(n_critic=1, lr=2e-4, betas=(0.5, 0.999), d_norm="none")

    def d_objective(self, real_scores, fake_scores):
        return ((real_scores - 1) ** 2).mean() + ((fake_scores + 1) ** 2).mean()

    def g_objective(self, fake_scores):
        return ((fake_scores - 1) ** 2).mean()
'''

ENTRY_POINT_MODULE = '''
import torch
from ganbench.datasets import DataSplit, DatasetInfo
from ganbench.variants import Defaults, Variant


class EpObjective(Variant):
    defaults = Defaults(n_critic=1, lr=1e-4, d_norm="none")

    def d_objective(self, real_scores, fake_scores):
        return fake_scores.mean() - real_scores.mean()

    def g_objective(self, fake_scores):
        return -fake_scores.mean()


def load_two_points(split, data_dir):
    """Two points at (+-1, 0)."""
    data = torch.tensor([[1.0, 0.0], [-1.0, 0.0]]).repeat(64, 1)
    return DataSplit(data, torch.arange(128) % 2, DatasetInfo("two-points", "points", (2,), 2))
'''

BENCHMARK = '''
description = "plugin round trip"
dataset = "ring8"
primary_metric = "modes"
variants = ["my-objective"]

[profiles.smoke]
budget = "3e7flops"
seeds = [0]
snapshot_fractions = [1.0]
train = { batch_size = 16, width = 16 }
eval = { n_samples = 200 }
'''


def make_plugins(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    (site / "mygan").mkdir(parents=True)
    (site / "mygan" / "__init__.py").write_text(PLUGIN)
    (site / "broken_gan.py").write_text("raise ImportError('needs a package that is not installed')\n")
    (site / "ep_gan.py").write_text(ENTRY_POINT_MODULE)
    dist = site / "ep_gan-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-gan\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""\
        [ganbench.variants]
        ep-objective = ep_gan:EpObjective

        [ganbench.datasets]
        two-points = ep_gan:load_two_points
        """))
    return site


def ganbench(site: Path, *args: str, plugins: str = "", cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)]), "GANBENCH_PLUGINS": plugins,
           "OMP_NUM_THREADS": "1", "GANBENCH_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "ganbench", *args], env=env, cwd=cwd or ROOT,
                          capture_output=True, text=True, timeout=600)


def test_list_says_where_each_variant_and_dataset_comes_from(tmp_path):
    site = make_plugins(tmp_path)
    out = ganbench(site, "list", plugins="mygan")
    assert out.returncode == 0, out.stderr
    lines = {}
    for line in out.stdout.split("benchmarks")[0].splitlines():  # the variant and dataset sections
        if line.startswith("  "):
            lines[line.split()[0]] = line
    assert lines["my-objective"].endswith("[plugin module mygan]")
    assert lines["ep-objective"].endswith("[entry point ep_gan:EpObjective (ganbench.variants)]")
    assert lines["two-points"].endswith("[entry point ep_gan:load_two_points (ganbench.datasets)]")
    assert lines["vanilla"].endswith("[builtin]") and lines["ring8"].endswith("[builtin]")


def test_plugin_variant_trains_through_ganbench_run(tmp_path):
    site = make_plugins(tmp_path)
    bench = tmp_path / "benchmarks"
    bench.mkdir()
    (bench / "plugged.toml").write_text(BENCHMARK)
    out = ganbench(site, "--plugin", "mygan", "run", "plugged", "--profile", "smoke", "--benchmarks-dir",
                   str(bench), "--out", str(tmp_path / "results"), "--workers", "1", "--no-report")
    assert out.returncode == 0, out.stdout + out.stderr
    record = json.loads((tmp_path / "results/runs/plugged/my-objective/seed0/record.json").read_text())
    assert record["status"] == "finished" and record["spent"]["g_steps"] > 0
    assert record["metrics"]  # scored like any builtin variant


def test_a_broken_plugin_is_named_and_leaves_unrelated_commands_alone(tmp_path):
    site = make_plugins(tmp_path)
    out = ganbench(site, "list", plugins="broken_gan")
    assert out.returncode == 2
    assert "plugin module broken_gan failed to load: ImportError: needs a package" in out.stderr
    assert "Traceback" not in out.stderr
    assert ganbench(site, "--help", plugins="broken_gan").returncode == 0
    results = tmp_path / "results"
    (results / "runs").mkdir(parents=True)
    import shutil

    shutil.copytree(ROOT / "results/runs/ring8/vanilla", results / "runs/ring8/vanilla")
    report = ganbench(site, "report", str(results), plugins="broken_gan")
    assert report.returncode == 0, report.stderr
    assert (results / "README.md").exists()
