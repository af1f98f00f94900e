"""Suite progress by FLOPs: workers' reports, the ETA, per-worker lines, the plain (CI log) mode."""

import io
from pathlib import Path

from ganbench.config.benchmarks import discover
from ganbench.core.record import read_record
from ganbench.suite.executors import run_local
from ganbench.suite.progress import Reporter, SuiteProgress
from ganbench.suite.tasks import Outcome, plan

ROOT = Path(__file__).resolve().parents[1]


def ring8_tasks(out, variants=("vanilla",)):
    return plan(discover(ROOT / "benchmarks", ("ring8",)), "smoke", out, variants=variants)  # seeds 0 and 1


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def msg(run_id, progress, worker="pid-1"):
    return {"worker": worker, "run_id": run_id, "progress": progress, "flops": 0, "losses": []}


def test_plain_mode_prints_lines_at_intervals_with_a_flop_based_eta(tmp_path):
    tasks = ring8_tasks(tmp_path, variants=("vanilla", "lsgan"))  # 4 runs of 4e10 FLOPs each
    out, clock = io.StringIO(), Clock()
    progress = SuiteProgress(tasks, file=out, plain=True, interval=10.0, clock=clock)
    a, b, c, d = (t.run_id for t in tasks)
    clock.t = 5.0
    progress.update(msg(a, 0.1))  # the first report starts the rate clock (start-up is not compute)
    progress.update(msg(b, 0.0, worker="pid-2"))
    assert out.getvalue() == ""  # under the interval: nothing printed yet
    clock.t = 9.0
    progress.update(msg(a, 0.9))
    progress.update(msg(b, 0.5, worker="pid-2"))
    clock.t = 15.0
    progress.update(None)  # a tick: the interval is up
    # Runs a, b have done 0.8 + 0.5 run-budgets since their first reports, in
    # 10 s; the suite is (0.9 + 0.5) / 4 = 35% done, so 65% at 1.3/4 per 10 s = 20 s left.
    assert progress.done() == (0.9 + 0.5) / 4
    assert abs(progress.eta() - 0.65 / (1.3 / 4) * 10) < 1e-9
    progress.finish(Outcome(c, "skipped"))  # done before this session: counts as done, not as speed
    assert abs(progress.eta() - 0.4 / (1.3 / 4) * 10) < 1e-9
    clock.t = 25.0
    progress.update(None)  # a tick
    progress.finish(Outcome(a, "finished"))
    progress.finish(Outcome(b, "diverged"))
    progress.finish(Outcome(d, "failed"))
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0].startswith("suite 35% of 1.6e+11 FLOPs | 0/4 runs ended | elapsed 00:15 | ETA 00:20")
    assert lines[0].endswith(f"| w1 {a} 90% | w2 {b} 50%")
    assert lines[-1].startswith("suite 100% of 1.6e+11 FLOPs | 4/4 runs ended | elapsed 00:25 | ETA 00:00")
    assert len(lines) == 3  # t=15, t=25, and the final line when every run ended


def test_terminal_mode_draws_a_suite_bar_and_a_line_per_worker(tmp_path):
    tasks = ring8_tasks(tmp_path)
    out = io.StringIO()
    with SuiteProgress(tasks, file=out, plain=False) as progress:
        progress.update(msg(tasks[0].run_id, 0.25, worker="pid-1"))
        progress.update(msg(tasks[1].run_id, 0.75, worker="pid-2"))
        assert len(progress.worker_bars) == 2
    text = out.getvalue()
    assert "\r" in text and "suite  50%|" in text
    assert f"w1 {tasks[0].run_id}  25%|" in text and f"w2 {tasks[1].run_id}  75%|" in text


def test_reporter_throttles_sends_new_loss_points_once_and_survives_a_dead_channel():
    sent, checkpoints, clock = [], [], Clock()
    reporter = Reporter("r", "w", sent.append, interval=1.0, on_checkpoint=lambda: checkpoints.append(1), clock=clock)
    losses = {"g_step": [10], "d_loss": [0.5], "g_loss": [0.7]}
    reporter({"progress": 0.1, "flops": 1, "losses": losses, "checkpointed": False})
    losses["g_step"].append(20), losses["d_loss"].append(0.4), losses["g_loss"].append(0.6)
    clock.t = 0.5
    reporter({"progress": 0.2, "flops": 2, "losses": losses, "checkpointed": True})  # throttled, but checkpoint hook runs
    clock.t = 1.0
    reporter({"progress": 0.3, "flops": 3, "losses": losses, "checkpointed": False})
    assert [m["losses"] for m in sent] == [[(10, 0.5, 0.7)], [(20, 0.4, 0.6)]] and checkpoints == [1]
    clock.t = 1.5
    reporter({"progress": 0.99, "flops": 4, "losses": losses, "checkpointed": False})  # throttled
    assert len(sent) == 2
    reporter.flush()  # the run ended: its last state goes out
    assert sent[-1]["progress"] == 0.99 and sent[-1]["losses"] == []

    def broken(_):
        raise ConnectionError("driver gone")

    quiet = Reporter("r", "w", broken)
    quiet({"progress": 0.1, "flops": 1, "losses": losses, "checkpointed": False})  # no exception
    assert quiet.send is None


def test_local_workers_report_flops_and_losses_as_they_train(tmp_path):
    tasks = ring8_tasks(tmp_path)[:1]
    messages = []
    assert [o.status for o in run_local(tasks, workers=1, on_progress=messages.append)] == ["finished"]
    reports = [m for m in messages if m is not None]
    record = read_record(Path(tasks[0].run_dir))
    assert len(reports) >= 2 and {m["run_id"] for m in reports} == {tasks[0].run_id}
    flops = [m["flops"] for m in reports]
    assert flops == sorted(flops) and flops[-1] == record["spent"]["flops"]
    assert reports[-1]["progress"] == record["progress"]
    points = [p for m in reports for p in m["losses"]]
    assert [list(p) for p in points] == [list(p) for p in zip(*(record["losses"][k] for k in ("g_step", "d_loss", "g_loss")))]


def test_runs_weigh_by_their_flop_budgets(tmp_path):
    import dataclasses

    small, big = ring8_tasks(tmp_path)
    budget = dataclasses.replace(big.config.budget, limit=3 * big.config.budget.limit)
    big = dataclasses.replace(big, config=dataclasses.replace(big.config, budget=budget))
    progress = SuiteProgress([small, big], file=io.StringIO(), plain=True)
    progress.update(msg(big.run_id, 0.5))
    assert progress.done() == 1.5 / 4  # half of 3 of the suite's 4 budget units
    progress.finish(Outcome(small.run_id, "finished"))
    assert progress.done() == 2.5 / 4
