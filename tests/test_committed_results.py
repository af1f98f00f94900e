"""The committed results/ is what `ganbench report` makes from the committed records."""

import shutil
from pathlib import Path

import pytest

from ganbench.config.benchmarks import discover
from ganbench.metrics.naming import primary_metrics
from ganbench.report import write_report
from ganbench.report.load import load_records

RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.mark.skipif(not (RESULTS / "runs").is_dir(), reason="no committed run records")
def test_committed_readme_and_tables_are_regenerated_from_the_records(tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy)
    write_report(copy)
    assert (copy / "README.md").read_text() == (RESULTS / "README.md").read_text()
    for table in sorted((RESULTS / "tables").glob("*.csv")):
        assert (copy / "tables" / table.name).read_text() == table.read_text(), table.name


@pytest.mark.skipif(not (RESULTS / "runs").is_dir(), reason="no committed run records")
def test_report_ranks_each_benchmark_by_the_primary_metric_its_file_declares():
    # The report reads only records, so it infers the ranking metric from the
    # metric keys; this keeps that inference equal to the benchmark files.
    records = load_records(RESULTS)
    bench_dir = RESULTS.parent / "benchmarks"
    repro = tuple(p.stem for p in sorted((bench_dir / "repro").glob("*.toml")))  # loaded by name only
    benchmarks = {b.name: b for b in discover(bench_dir) + discover(bench_dir, repro)}
    checked = 0
    for name in sorted(records.finals["benchmark"].unique()):
        keys = records.finals.loc[records.finals["benchmark"] == name, "metric"].unique()
        assert primary_metrics(keys)[0] == benchmarks[name].primary_metric, name
        checked += 1
    assert checked >= 4
