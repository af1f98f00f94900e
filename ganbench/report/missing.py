"""Which planned runs a report lacks: the mark of a suite still running or interrupted.

``ganbench run`` writes each benchmark's planned run ids into its
``benchmark.json`` (``expected_runs``) before training, and rewrites the report
each time a benchmark's runs are all done; a report made before the end (or
left by a killed suite) names, per benchmark, the runs with no scored record.
Results without ``expected_runs`` (older suites, single runs) report nothing.
"""

from __future__ import annotations

SHOWN = 12  # run names listed per benchmark before "... and N more"


def missing_runs(records, benchmarks=None) -> dict[str, tuple[int, list[str]]]:
    """Benchmark -> (runs planned, planned run ids with no finished, diverged or
    flagged record), for benchmarks that miss at least one; ``benchmarks`` restricts."""
    runs = records.runs
    done = set(runs.loc[runs["outcome"] != "incomplete", "run_dir"].str.removeprefix("runs/"))
    found = {}
    for name, declared in sorted(records.declared.items()):
        expected = declared.get("expected_runs") or []
        missing = [run for run in expected if run not in done]
        if missing and (not benchmarks or name in benchmarks):
            found[name] = (len(expected), missing)
    return found


def missing_line(benchmark: str, planned: int, missing: list[str]) -> str:
    """``*Incomplete: 3 of 35 runs missing: vanilla/seed3, ...*`` (names within the benchmark)."""
    names = [run.removeprefix(f"{benchmark}/") for run in missing]
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
    return (f"*Incomplete: {len(missing)} of {planned} planned runs missing (not run, running or "
            f"unscored): {shown}. The suite is still running or was stopped; rerun it to finish.*")
