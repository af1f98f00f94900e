"""A `ganbench run` driver killed without clean-up takes its pool workers with it.

Before, a driver killed with SIGTERM (or SIGKILL) left its spawn workers alive
as orphans, each holding its model and data, until killed by hand. The driver
here builds its pool exactly as ``run_local`` does (spawn context, the same
initializer), hands back one worker's pid and is then SIGKILLed.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganbench.suite.leases import _process_is_alive

ROOT = Path(__file__).resolve().parents[1]

DRIVER = """
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from ganbench.suite.executors import _init_worker

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                               initargs=(None, None, os.getpid()))
    print(pool.submit(os.getpid).result(), flush=True)   # the worker, now idle in the pool
    time.sleep(120)
"""


def alive(pid: int) -> bool:
    # the suite's own liveness check: a zombie (exited, not yet reaped) counts as dead
    return _process_is_alive(pid, start_time=None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_pool_worker_exits_when_the_driver_is_killed():
    driver = subprocess.Popen([sys.executable, "-c", DRIVER], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    worker = int(driver.stdout.readline())
    try:
        assert alive(worker)
        driver.send_signal(signal.SIGKILL)
        driver.wait()
        deadline = time.monotonic() + 20
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(worker), "the pool worker outlived its killed driver (an orphan)"
    finally:
        if alive(worker):
            os.kill(worker, signal.SIGKILL)
