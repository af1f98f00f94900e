"""``--tensorboard DIR``: a live view of a suite while it trains.

TensorBoard rather than MLflow: it writes plain event files (no tracking
server or database to run, and nothing to reach from cluster nodes: the
driver writes them from the progress messages the workers send anyway), it
is what most GAN code logs to, and its one package is small where MLflow
pulls a web stack. It is an optional extra, ``ganbench[tensorboard]``.

One TensorBoard run per ganbench run (``DIR/<benchmark>/<variant>/seed<k>``):
``loss/d_loss`` and ``loss/g_loss`` at each logged generator step, as the
workers report them, and each snapshot's metrics when the run has been
scored, tagged ``metrics/<name as the report's tables show it>`` (e.g.
``metrics/FID (FMNIST-CNN)``) at the snapshot's generator step.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

from ganbench.core.errors import ConfigError, GanbenchError
from ganbench.core.record import read_record
from ganbench.metrics.naming import metric_label


class TensorBoardLog:
    """Event files for a suite, fed the same progress messages as the progress bar."""

    def __init__(self, logdir: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("--tensorboard needs TensorBoard: pip install 'ganbench[tensorboard]'") from None
        self.logdir, self.writer_class = Path(logdir), SummaryWriter
        self.writers: dict = {}

    def writer(self, run_id: str):
        if run_id not in self.writers:
            self.writers[run_id] = self.writer_class(log_dir=str(self.logdir / run_id))
        return self.writers[run_id]

    def update(self, msg: Optional[dict]) -> None:
        """Log the loss-trace points of a worker's progress message."""
        if msg is None or not msg.get("losses"):
            return
        writer = self.writer(msg["run_id"])
        for g_step, d_loss, g_loss in msg["losses"]:
            for tag, value in (("loss/d_loss", d_loss), ("loss/g_loss", g_loss)):
                writer.add_scalar(tag, float(value), g_step)  # a non-finite loss arrives as a string: float() reads it

    def finish(self, outcome, run_dir: str) -> None:
        """Log the snapshot metrics of a run that trained in this suite."""
        if outcome.status not in ("finished", "diverged"):
            return
        try:
            record = read_record(Path(run_dir))
        except GanbenchError:
            return
        writer = self.writer(outcome.run_id)
        for snap in record["snapshots"]:
            for key, value in snap["metrics"].items():
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    writer.add_scalar(f"metrics/{metric_label(key)}", value, snap["g_step"])
        writer.flush()

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
