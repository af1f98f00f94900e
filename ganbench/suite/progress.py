"""Suite progress measured in FLOPs, reported by the workers as they train.

Worker side, a :class:`Reporter` is the trainer's callback: it sends the run's
budget fraction (and the new loss-trace points) to the driver at most every
``interval`` seconds. Driver side, :class:`SuiteProgress` weighs each run's
fraction by its budget, so the suite bar moves with compute spent rather than
with runs finished (a run count sat at 0/60 for minutes, then extrapolated the
slowest runs over the fast ones). Its ETA is the remaining FLOPs over the
average rate of this session. On a terminal it draws one tqdm bar for the
suite and one line per worker; elsewhere (CI logs) it prints a plain line
every ``interval`` seconds instead of carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

from tqdm import tqdm


class Reporter:
    """The trainer callback of one run on a worker: throttled messages to ``send``.

    ``on_checkpoint`` runs after each checkpoint the trainer writes (a cluster
    worker copies it to ``--checkpoint-dir`` there). Progress is best effort:
    a failing ``send`` never fails the run.
    """

    def __init__(self, run_id: str, worker: str, send: Optional[Callable[[dict], None]], *,
                 interval: float = 0.5, on_checkpoint: Optional[Callable[[], None]] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.run_id, self.worker, self.send, self.interval = run_id, worker, send, interval
        self.on_checkpoint, self.clock = on_checkpoint, clock
        self.last = -float("inf")
        self.sent_losses = 0
        self.latest: Optional[dict] = None

    def __call__(self, info: dict) -> None:
        if info.get("checkpointed") and self.on_checkpoint is not None:
            self.on_checkpoint()
        self.latest = info
        if self.clock() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Send the latest state now (the executor calls this when the run ends)."""
        info, self.latest = self.latest, None
        if self.send is None or info is None:
            return
        self.last = self.clock()
        losses = info["losses"]
        new = list(zip(*(losses[k][self.sent_losses:] for k in ("g_step", "d_loss", "g_loss"))))
        self.sent_losses = len(losses["g_step"])
        try:
            self.send({"worker": self.worker, "run_id": self.run_id, "progress": info["progress"],
                       "flops": info["flops"], "losses": new})
        except Exception:  # noqa: BLE001 - a lost progress channel must not cost the run
            self.send = None


_BAR = "{desc} {percentage:3.0f}%|{bar}|"


def _weights(tasks) -> dict[str, float]:
    """Each run's share of the suite: its FLOP budget (equal shares for time budgets)."""
    flops = all(t.config.budget.unit == "flops" for t in tasks)
    return {t.run_id: (t.config.budget.limit if flops else 1.0) for t in tasks}


class SuiteProgress:
    """Driver-side display of a suite's progress; feed it messages and outcomes."""

    def __init__(self, tasks, *, file: Optional[TextIO] = None, plain: Optional[bool] = None,
                 interval: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.weights = _weights(tasks)
        self.unit = "FLOPs" if all(t.config.budget.unit == "flops" for t in tasks) else "runs"
        self.total = sum(self.weights.values()) or 1.0
        self.fraction = {run: 0.0 for run in self.weights}  # how far each run is
        self.first = {}  # the fraction each run first reported: work before this session is not rate
        self.ended = 0
        self.workers: dict[str, tuple[str, float]] = {}  # worker -> (run id, fraction)
        self.labels: dict[str, str] = {}  # worker -> w1, w2, ... in order of first message
        self.file = file or sys.stderr
        self.plain = not self.file.isatty() if plain is None else plain
        self.interval, self.clock = interval, clock
        self.start = self.last_print = clock()
        self.work_start: Optional[float] = None  # first message: worker start-up is not compute rate
        self.bar = None if self.plain else tqdm(total=100, file=self.file, position=0, dynamic_ncols=True,
                                                bar_format=_BAR, desc="suite")
        self.worker_bars: dict[str, tqdm] = {}

    def update(self, msg: Optional[dict]) -> None:
        """A worker's message (or None: a tick, so the display can refresh)."""
        if msg is not None and msg["run_id"] in self.fraction:
            run, fraction = msg["run_id"], float(msg["progress"])
            self.work_start = self.clock() if self.work_start is None else self.work_start
            self.first.setdefault(run, fraction)
            self.fraction[run] = max(self.fraction[run], fraction)
            self.workers[msg["worker"]] = (run, fraction)
            self.labels.setdefault(msg["worker"], f"w{len(self.labels) + 1}")
        self._show()

    def finish(self, outcome) -> None:
        """A run ended (whatever its status): all of its share is done."""
        self.first.setdefault(outcome.run_id, 1.0 if outcome.status in ("skipped", "claimed") else 0.0)
        self.fraction[outcome.run_id] = 1.0
        self.ended += 1
        self.workers = {w: v for w, v in self.workers.items() if v[0] != outcome.run_id}
        self._show(force=self.plain and self.ended == len(self.weights))

    def done(self) -> float:
        """Fraction of the suite's compute done (ended runs count whole)."""
        return sum(self.weights[r] * f for r, f in self.fraction.items()) / self.total

    def eta(self) -> Optional[float]:
        """Seconds left at this session's average rate since the first report; None before one."""
        worked = sum(self.weights[r] * (self.fraction[r] - f0) for r, f0 in self.first.items()) / self.total
        elapsed = self.clock() - (self.start if self.work_start is None else self.work_start)
        if worked <= 0 or elapsed <= 0:
            return None
        return (1.0 - self.done()) * elapsed / worked

    def summary(self) -> str:
        """``37% of 2.4e+12 FLOPs | 7/20 runs ended | elapsed 0:01:10 | ETA 0:02:00``."""
        eta = self.eta()
        total = f"{self.total:.3g} {self.unit}" if self.unit == "FLOPs" else f"{len(self.weights)} runs"
        return (f"{100 * self.done():.0f}% of {total} | {self.ended}/{len(self.weights)} runs ended | "
                f"elapsed {tqdm.format_interval(self.clock() - self.start)} | "
                f"ETA {'?' if eta is None else tqdm.format_interval(eta)}")

    def line(self) -> str:
        """The plain-mode line: the summary, then each worker's run and its percentage."""
        workers = "".join(f" | {self.labels[w]} {run} {100 * f:.0f}%"
                          for w, (run, f) in sorted(self.workers.items(), key=lambda item: self.labels[item[0]]))
        return f"suite {self.summary()}{workers}"

    def close(self) -> None:
        for bar in self.worker_bars.values():
            bar.close()
        if self.bar is not None:
            self._show()
            self.bar.close()

    def __enter__(self) -> "SuiteProgress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _show(self, force: bool = False) -> None:
        now = self.clock()
        if self.plain:
            if force or now - self.last_print >= self.interval:
                self.last_print = now
                print(self.line(), file=self.file, flush=True)
            return
        self.bar.n = round(100 * self.done(), 1)
        text = self.summary().split(" | ", 1)[1]  # the percentage is the bar's own
        self.bar.bar_format = _BAR + " " + text.replace("{", "{{").replace("}", "}}")
        self.bar.refresh()
        for worker, (run, fraction) in self.workers.items():
            bar = self.worker_bars.get(worker)
            if bar is None:
                bar = self.worker_bars[worker] = tqdm(total=100, file=self.file, position=len(self.worker_bars) + 1,
                                                      leave=False, bar_format=_BAR, desc=f"  {self.labels[worker]}")
            bar.set_description_str(f"  {self.labels[worker]} {run}", refresh=False)
            bar.n = round(100 * fraction, 1)
            bar.refresh()
