"""End-to-end: write_report and `ganbench report` on fixture records."""

from __future__ import annotations

import hashlib
import signal
import warnings
from pathlib import Path

import pandas as pd
import pytest
import seaborn as sns
from click.testing import CliRunner

from ganbench.cli import GanbenchGroup
from ganbench.cli.report import report_command
from ganbench.report import NoRecordsError, RecordWarning, write_report
from ganbench.report.figures import figure_bytes, seeds_figure, variant_palette
from ganbench.report.load import load_records
from ganbench.report.stats import bootstrap_mean
from ganbench.report.tables import build_tables
from tests.test_report_records import image_suite, make_record, ring8_suite, write_record

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str):
    """`ganbench report ARGS` through a group like the real `ganbench` one."""
    group = GanbenchGroup()
    group.add_command(report_command)
    return CliRunner().invoke(group, ["report", *args])


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    ring8_suite(root)
    image_suite(root)
    return root


def _digest(paths, base: Path) -> dict[str, str]:
    return {p.relative_to(base).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in paths}


def test_rerun_is_byte_identical(results, tmp_path):
    first = write_report(results, tmp_path / "a", formats=("markdown", "csv", "latex"))
    assert len(first) == 12
    before = _digest(first, tmp_path / "a")
    again = write_report(results, tmp_path / "a", formats=("markdown", "csv", "latex"))
    assert _digest(again, tmp_path / "a") == before


def test_files_tables_and_figures(results, tmp_path):
    out = tmp_path / "out"
    written = write_report(results, out, formats="markdown,csv,latex")
    names = {p.relative_to(out).as_posix() for p in written}
    expected = {"README.md", "tables/summary.csv"}
    for bench in ("ring8", "fmnist"):
        expected |= {f"tables/{bench}.csv", f"tables/{bench}.tex"}
        expected |= {f"figures/{bench}_{kind}.png" for kind in ("curves", "seeds", "samples")}
    assert names == expected
    for name in names:
        if name.endswith(".png"):
            data = (out / name).read_bytes()
            assert data.startswith(PNG_MAGIC) and b"Software" not in data
    readme = (out / "README.md").read_text()
    assert readme.index("## Summary across benchmarks") < readme.index("## fmnist")
    assert "](figures/ring8_samples.png)" in readme
    # two seeds: the interval is their range, and P = 1.00 carries the p that shows these
    # seeds cannot separate the variants (◇: no outcome could reach p < 0.05 after Holm)
    assert ("| wgan-gp | 30.50 (30.00–31.00) · P(>vanilla) 1.00 p=0.67 ◇ | 8.00 (8.00–8.00) · "
            "P(>vanilla) 1.00 p=0.11 ◇ |") in readme
    table = pd.read_csv(out / "tables" / "ring8.csv").set_index(["variant", "metric"])
    row = table.loc[("vanilla", "modes")]
    # the diverged seed enters at 0 modes: 1, 2, 3, 0
    assert (row["mean"], row["n"], row["diverged"], row["worst_filled"]) == (1.5, 4, 1, 1)
    assert row["ci_high"] == pytest.approx(bootstrap_mean([1, 2, 3, 0]).high, rel=1e-9)
    assert row["view"] == "all"
    assert not (results / "README.md").exists()   # --out respected, input untouched


def test_selection(results, tmp_path):
    out = tmp_path / "sel"
    write_report(results, out, benchmarks=["ring8"], variants=["vanilla", "lsgan"],
                 metrics=["modes"], formats=["csv"])
    table = pd.read_csv(out / "tables" / "ring8.csv")
    assert sorted(set(table["variant"])) == ["lsgan", "vanilla"]
    assert set(table["metric"]) == {"modes"}
    assert not (out / "tables" / "fmnist.csv").exists() and not (out / "README.md").exists()
    with pytest.raises(NoRecordsError, match="available: fmnist, ring8"):
        write_report(results, out, benchmarks=["nope"])


def test_palette_is_keyed_by_name():
    full = variant_palette(["wgan-gp", "vanilla", "lsgan"])
    assert list(full) == ["lsgan", "vanilla", "wgan-gp"]
    assert variant_palette(["lsgan", "wgan-gp", "vanilla", "lsgan"]) == full


def test_palette_gives_the_variants_every_benchmark_runs_the_first_distinct_colours():
    # Seven variants in two benchmarks, four labels in one reproduction
    # benchmark: eleven names, more than the colour-blind palette's ten.
    main = ["hinge", "loss-sensitive", "lsgan", "vanilla", "vanilla-mm", "wgan", "wgan-gp"]
    labels = ["GAN", "PacGAN2", "PacGAN3", "PacGAN4"]
    variants = main * 2 + labels
    benchmarks = ["ring8"] * 7 + ["grid25"] * 7 + ["pacgan-ring8"] * 4
    palette = variant_palette(variants, benchmarks)
    colourblind = [tuple(c) for c in sns.color_palette("colorblind")]
    assert [palette[v] for v in main] == colourblind[:7]
    assert len(set(palette.values())) == 11


def test_bad_record_is_named_and_skipped(tmp_path):
    write_record(tmp_path, make_record("ring8", "vanilla", 0, {"modes": 8}))
    write_record(tmp_path, make_record("ring8", "vanilla", 1, {"modes": 8}, schema_version=2))
    with pytest.warns(RecordWarning, match="runs/ring8/vanilla/seed1/record.json"):
        write_report(tmp_path, formats=["markdown"])
    readme = (tmp_path / "README.md").read_text()
    assert "## Skipped records" in readme and "`runs/ring8/vanilla/seed1/record.json`" in readme


def test_cli_report(results, tmp_path):
    out = tmp_path / "cli"
    result = run_cli(str(results), "--out", str(out), "--format", "csv", "--format", "latex",
                     "--variant", "vanilla,wgan-gp")
    assert result.exit_code == 0, result.output
    assert (out / "tables" / "ring8.tex").exists() and not (out / "README.md").exists()
    assert "wrote" in result.output
    result = run_cli(str(results), "--out", str(out), "--format", "csv", "--finished-only")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "tables" / "ring8.csv").set_index(["variant", "metric"])
    assert table.loc[("vanilla", "modes"), "mean"] == 2.0      # 1, 2, 3 without the diverged run
    assert set(table["view"]) == {"finished"}


def test_cli_empty_dir_fails_clearly(tmp_path):
    result = run_cli(str(tmp_path))
    assert result.exit_code == 2 and result.exception is not None   # SystemExit, not a crash
    assert "error: no run records found" in result.output and "Traceback" not in result.output


def test_cli_warns_on_bad_record_and_rejects_bad_format(tmp_path):
    write_record(tmp_path, make_record("ring8", "vanilla", 0, {"modes": 8}))
    bad = write_record(tmp_path, make_record("ring8", "lsgan", 0, {"modes": 8}))
    bad.write_text("[]")
    result = run_cli(str(tmp_path), "--format", "csv")
    assert result.exit_code == 0
    assert "warning: skipping runs/ring8/lsgan/seed0/record.json: not a JSON object" in result.output
    result = run_cli(str(tmp_path), "--format", "html")
    assert result.exit_code == 2 and "unknown format html" in result.output


def test_cli_passes_on_a_foreign_warning_once_and_ends(monkeypatch, tmp_path):
    # Replaying a non-ganbench warning inside catch_warnings(record=True) appended it
    # to the list being replayed: `ganbench report` looped forever, growing (10 GB
    # seen), on seaborn's swarmplot warning. An alarm turns a relapse into a failure.
    def write_report(*args, **kwargs):
        warnings.warn("not ours", UserWarning, stacklevel=2)
        warnings.warn("a bad record", RecordWarning, stacklevel=2)
        return []

    def timeout(*_):
        raise TimeoutError("ganbench report did not end")

    monkeypatch.setattr("ganbench.report.write_report", write_report)  # the command imports it on call
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    try:
        with pytest.warns(UserWarning, match="not ours") as passed_on:
            result = run_cli(str(tmp_path))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.exception is None and result.exit_code == 0, result.output
    assert "warning: a bad record" in result.output
    assert [str(w.message) for w in passed_on] == ["not ours"]


def test_seed_panels_place_ten_equal_seeds_of_seven_variants(tmp_path):
    # The committed ring8 has 7 variants x 10 seeds, many at exactly 8 modes; at the
    # old marker size seaborn could not place 10-30 % of them and drew them on top
    # of one another, so a reader counted fewer seeds than there were.
    variants = ["hinge", "loss-sensitive", "lsgan", "vanilla", "vanilla-mm", "wgan", "wgan-gp"]
    for variant in variants:
        for seed in range(10):
            write_record(tmp_path, make_record("ring8", variant, seed, {"modes": 8}))
    records = load_records(tmp_path)
    table = build_tables(records)[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*cannot be placed")
        # seaborn places a swarm's points when it is drawn: here, as the report saves it
        assert figure_bytes(seeds_figure(records, table, variant_palette(variants)))
