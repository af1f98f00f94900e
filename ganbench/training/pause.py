"""Test support: stop a training process at a chosen step, so kill tests can
synchronise on an event instead of polling the clock.

Set ``GANBENCH_TEST_PAUSE="<run_id>@<g_step>"`` (run_id as in the record, e.g.
``ring8/lsgan/seed0``; ``train/<variant>/seed<n>`` outside a benchmark). After
that generator step (and its checkpoint, if one is due) the process writes its
pid as one line to the FIFO named by ``GANBENCH_TEST_PAUSE_FIFO``, if set, and
stops itself with SIGSTOP. The test waits for that event (``os.waitpid(pid,
os.WUNTRACED)`` on a child, or a blocking read of the FIFO for a grandchild),
then SIGKILLs it. Unset, it costs one dictionary lookup per step.
"""

from __future__ import annotations

import os
import signal

PAUSE = "GANBENCH_TEST_PAUSE"
PAUSE_FIFO = "GANBENCH_TEST_PAUSE_FIFO"


def pause_point(run_id: str, g_step: int) -> None:
    """Stop this process here if the test environment asks for this run and step."""
    if os.environ.get(PAUSE) != f"{run_id}@{g_step}":
        return
    if fifo := os.environ.get(PAUSE_FIFO):
        with open(fifo, "w") as f:  # blocks until the test opens it for reading
            f.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGSTOP)
