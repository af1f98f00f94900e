"""Results as they come: ``ganbench run`` rewrites the report as each benchmark ends,
and a suite stopped part-way leaves a report that names the runs it lacks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from ganbench.cli import main
from ganbench.cli.run import _watched
from ganbench.config.run import Budget
from ganbench.suite.tasks import Outcome, execute

ROOT = Path(__file__).resolve().parents[1]


class _Task:  # what _watched and its progress display read of a task
    def __init__(self, run_id):
        self.run_id, self.run_dir = run_id, f"/nowhere/{run_id}"
        self.config = SimpleNamespace(benchmark=run_id.split("/")[0], budget=Budget("flops", 1e9))


def test_each_benchmark_is_reported_when_its_last_run_ends(capsys):
    tasks = [_Task(r) for r in ("a/v/seed0", "a/v/seed1", "b/v/seed0", "b/w/seed0")]
    done_when: list[tuple[str, int]] = []
    yielded = []

    def start(_on_progress):  # outcomes out of order, as a pool gives them
        for run_id in ("a/v/seed1", "b/v/seed0", "a/v/seed0", "b/w/seed0"):
            yielded.append(run_id)
            yield Outcome(run_id, "finished")

    _watched(tasks, 0, None, start, lambda name: done_when.append((name, len(yielded))))
    assert done_when == [("a", 3), ("b", 4)]


def test_a_stopped_suite_leaves_a_report_of_what_finished_naming_what_is_missing(tmp_path, monkeypatch):
    seen = {}

    def first_then_stop(tasks, workers=None, on_progress=None):
        # Runs ring8's task for real in this process, then is "killed" during grid25's.
        ring8 = [t for t in tasks if t.config.benchmark == "ring8"]
        for task in ring8:
            yield execute(task)
        readme = tmp_path / "README.md"
        seen["after ring8"] = readme.read_text() if readme.exists() else None
        raise KeyboardInterrupt

    monkeypatch.setattr("ganbench.suite.executors.run_local", first_then_stop)
    result = CliRunner().invoke(main, ["run", "ring8", "grid25", "--profile", "smoke", "--variant", "vanilla",
                                       "--seeds", "0", "--out", str(tmp_path),
                                       "--benchmarks-dir", str(ROOT / "benchmarks")])
    assert result.exit_code == 1 and "Aborted!" in result.output, result.output  # click turns ^C into Abort
    assert "ring8 done: report rewritten" in result.output
    text = seen["after ring8"]
    assert text is not None, "no report after the first benchmark"
    assert (tmp_path / "tables" / "ring8.csv").exists()
    assert "## ring8" in text and "| vanilla |" in text.split("## ring8", 1)[1]
    # grid25 has no record yet: its own section says so, with the run named.
    grid = text.split("## grid25", 1)[1]
    assert "*Incomplete: 1 of 1 planned runs missing" in grid and "vanilla/seed0" in grid
    assert "## ring8\n\n*Incomplete" not in text  # the finished benchmark renders as before
    assert (tmp_path / "README.md").read_text() == text  # left as the interrupted suite's report


def test_a_benchmark_whose_only_runs_are_still_running_is_reported(tmp_path):
    """The report written mid-suite meets records of runs still in progress: a
    benchmark (or variant) with nothing finished yet renders with its runs counted
    incomplete, not a crash (compute-to-target over no finished run; seen in a
    suite whose second benchmark had only running records; and the permutation note
    over an empty summary, seen in the floors smoke)."""
    import json
    import shutil

    from ganbench.report.write import write_report

    source = ROOT / "results" / "runs" / "ring8"
    target = tmp_path / "runs" / "ring8"
    target.mkdir(parents=True)
    for name in ("benchmark.json", "real-data.json"):
        shutil.copy(source / name, target / name)
    for variant in ("vanilla", "wgan-gp"):  # the baseline and one other: the comparison table is drawn
        run = target / variant / "seed0"
        run.mkdir(parents=True)
        record = json.loads((source / variant / "seed0" / "record.json").read_text())
        record["status"], record["metrics"] = "running", {}
        record["snapshots"] = [{**s, "metrics": {}} for s in record["snapshots"][:2]]
        (run / "record.json").write_text(json.dumps(record))

    write_report(tmp_path, tmp_path / "report")
    text = (tmp_path / "report" / "README.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| vanilla |")]
    assert rows[0].startswith("| vanilla | — | — | 0 of 0 |")  # compute-to-target: no finished run, no cost
    assert "| vanilla (baseline) | 1 | 0 | 1 |" in text  # seeds 1, diverged 0, incomplete 1
