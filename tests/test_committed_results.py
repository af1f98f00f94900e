"""The committed results/ is what `ganbench report` makes from the committed records."""

import shutil
from pathlib import Path

import pytest

from ganbench.report import write_report

RESULTS = Path(__file__).resolve().parents[1] / "results"


@pytest.mark.skipif(not (RESULTS / "runs").is_dir(), reason="no committed run records")
def test_committed_readme_and_tables_are_regenerated_from_the_records(tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(RESULTS, copy)
    write_report(copy)
    assert (copy / "README.md").read_text() == (RESULTS / "README.md").read_text()
    for table in sorted((RESULTS / "tables").glob("*.csv")):
        assert (copy / "tables" / table.name).read_text() == table.read_text(), table.name
