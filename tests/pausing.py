"""Kill tests' event: start a command whose run ``run_id`` stops itself at ``step``
(ganbench.training.pause), wait until it says so on a FIFO, then SIGKILL the whole process group."""

import os
import select
import signal
import subprocess
from pathlib import Path

from ganbench.training.pause import PAUSE, PAUSE_FIFO


def kill_when_paused(command: list[str], run_id: str, step: int, fifo_path: Path) -> None:
    """Run ``command`` in a new session until ``run_id`` reaches ``step``, then kill it and its workers."""
    os.mkfifo(fifo_path)
    fifo = os.open(fifo_path, os.O_RDWR)  # both ends held: the writer never blocks, no EOF
    env = {**os.environ, PAUSE: f"{run_id}@{step}", PAUSE_FIFO: str(fifo_path)}
    proc = subprocess.Popen(command, start_new_session=True, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([fifo], [], [], 600)  # a safety net against a hang, not a timing check
        assert ready, f"{run_id} never reached step {step} (exit {proc.poll()})"
        assert int(os.read(fifo, 64).decode().split()[0]) > 0
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers, mid-run
        proc.wait()
        os.close(fifo)
