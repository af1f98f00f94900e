"""Executors run suite tasks and yield their outcomes as they complete.

- ``local`` (default): a process pool. On CPU one worker per core, each with
  one torch thread (two threads in one process made a small DCGAN step ~4x
  slower on the 2-core dev machines, while two single-thread processes each
  ran at full speed). On CUDA one worker per GPU, each pinned to its device.
- ``ray``: each task a Ray task asking for one GPU (CUDA) or one CPU, its
  results sent back to the driver (:mod:`ganbench.suite.cluster`).
Records are identical whatever the executor or worker count. Workers report
their runs' progress to the driver (``on_progress``) as they train.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import os
import queue as queue_module
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

from ganbench.suite.cluster import POLL_SECONDS, run_ray  # noqa: F401 (the ray executor lives there)
from ganbench.suite.progress import Reporter
from ganbench.suite.tasks import Outcome, Task, execute, execute_group

_WORKER_DEVICE: Optional[str] = None
_PROGRESS = None  # this worker's queue to the driver, if it wants progress

#: glibc malloc tunables for local workers. By default glibc returns the top of
#: its heap to the OS once 128 KiB are free and serves blocks above an adaptive
#: threshold with fresh mmaps, so every training step's activations were faulted
#: back in (132 million minor faults, 280 s of system time in a quick suite).
#: A fixed mmap threshold at glibc's maximum (32 MiB on 64-bit, DEFAULT_MMAP_THRESHOLD_MAX)
#: and a high trim threshold keep that memory in the heap; the top pad grows the
#: heap in large steps. Values never change a result (torch aligns its tensors
#: itself). benchmarks/perf/malloc_tunables.py, 2 loaded cores: scoring 0.63-0.70x
#: CPU time and 0.3x system time, but training steps 1.03-1.18x CPU time; net a
#: few percent of a worker's time. An empty dict turns them off.
WORKER_MALLOC_ENV = {
    "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
    "MALLOC_TRIM_THRESHOLD_": str(256 << 20),
    "MALLOC_TOP_PAD_": str(16 << 20),
}


@contextmanager
def worker_malloc_env() -> Iterator[None]:
    """Put ``WORKER_MALLOC_ENV`` in the environment while workers start (glibc reads it
    only at process start); values the user set already win. Restored afterwards."""
    added = {k: v for k, v in WORKER_MALLOC_ENV.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def default_workers(device: str) -> int:
    """One worker per core on CPU, one per GPU on CUDA."""
    if device.startswith("cuda"):
        import torch

        return max(torch.cuda.device_count(), 1)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def exit_with_parent(parent_pid: int) -> None:
    """Have the kernel SIGTERM this process when ``parent_pid`` (the driver) dies.

    A driver killed with SIGTERM or SIGKILL runs no clean-up, so its pool's
    workers lived on as orphans, each holding its model and data (840 MB seen)
    until killed by hand. Their runs resume from checkpoints either way. Linux
    only (prctl PR_SET_PDEATHSIG); elsewhere a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1   # <linux/prctl.h>
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent_pid:   # the driver died before the prctl took effect
        os._exit(1)


def _init_worker(devices, progress, parent_pid: int) -> None:
    """Per-process setup: die with the driver; one torch thread on CPU; a GPU of its own on CUDA."""
    exit_with_parent(parent_pid)
    import torch

    global _WORKER_DEVICE, _PROGRESS
    torch.set_num_threads(1)
    _WORKER_DEVICE = devices.get() if devices is not None else None
    _PROGRESS = progress


def _on_worker_device(task: Task) -> Task:
    if _WORKER_DEVICE is None:
        return task
    return dataclasses.replace(task, config=dataclasses.replace(task.config, device=_WORKER_DEVICE),
                               members=tuple(_on_worker_device(t) for t in task.members))


def _execute_on_worker_device(task: Task) -> list[Outcome]:
    """Run a task (a seed group: all its members) on this worker; its outcomes."""
    task = _on_worker_device(task)
    send = _PROGRESS.put if _PROGRESS is not None else None
    reporters = {t.run_id: Reporter(t.run_id, str(os.getpid()), send) for t in task.members or (task,)}
    if task.members:
        outcomes = execute_group(task, callbacks=reporters)
    else:
        outcomes = [execute(task, callback=reporters[task.run_id])]
    for reporter in reporters.values():
        reporter.flush()
    return outcomes


def run_local(tasks: list[Task], workers: Optional[int] = None,
              on_progress: Optional[Callable[[Optional[dict]], None]] = None) -> Iterator[Outcome]:
    """Run tasks on a spawn-context process pool; yields outcomes as they finish.

    ``on_progress`` receives the workers' progress messages (and None every
    ``POLL_SECONDS`` or so, so a display can refresh).
    """
    if not tasks:
        return
    device = tasks[0].config.device
    workers = workers or default_workers(device)
    context = mp.get_context("spawn")  # fresh interpreters: no inherited torch threads or CUDA state
    devices = None
    if device.startswith("cuda"):
        devices = context.Manager().Queue()
        for i in range(workers):
            devices.put(f"cuda:{i % default_workers(device)}")
    progress = context.Queue() if on_progress is not None else None
    with worker_malloc_env(), ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                                  initargs=(devices, progress, os.getpid())) as pool:
        futures = {pool.submit(_execute_on_worker_device, t): t for t in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            _drain(progress, on_progress)
            for future in done:
                try:
                    yield from future.result()
                except Exception as exc:  # a worker died (e.g. killed, out of memory)
                    for task in futures[future].members or (futures[future],):
                        yield Outcome(task.run_id, "failed", error=f"worker crashed: {type(exc).__name__}: {exc}")


def _drain(progress, on_progress) -> None:
    """Hand every waiting progress message to ``on_progress``, then a tick (None)."""
    if progress is None:
        return
    while True:
        try:
            on_progress(progress.get_nowait())
        except queue_module.Empty:
            break
    on_progress(None)
