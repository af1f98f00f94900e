"""The Ray executor: runs on a cluster without a shared filesystem.

The driver (the ``ganbench run`` process) decides what to run and owns the
results: it skips complete runs and claims the others in its own ``--out``,
as the local executor does. Each run is a Ray task (one GPU on CUDA, one CPU
otherwise) that trains and scores in node-local scratch
(``$GANBENCH_SCRATCH``, default the system temp directory), then returns every
file of the run directory except checkpoints (record, samples, snapshots) to
the driver, which writes them atomically under ``--out``, the record last.

A seed group (``ganbench.suite.grouping``) is one Ray task: its members train
together in the worker's scratch and come back one by one. A task lost with
its node (or its worker process) is submitted again, up to
``MAX_ATTEMPTS`` times in all. With ``--checkpoint-dir`` the new attempt
resumes from the last checkpoint stored there; without one it restarts from
scratch. Either way the record's ``resume_events`` say what happened.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Optional

from ganbench.core.errors import GanbenchError
from ganbench.core.io import atomic_write_bytes
from ganbench.core.record import RECORD_NAME
from ganbench.suite.progress import Reporter
from ganbench.suite.tasks import Outcome, Task, claim, execute, execute_group, is_complete, release

MAX_ATTEMPTS = 3  # a run survives two lost nodes; a third loss is more likely the run's own fault
POLL_SECONDS = 0.5  # how often the driver drains progress messages while runs train
_NOT_RETURNED = ("checkpoint", ".claim")  # prefixes of files that stay on the worker


def run_ray(tasks: list[Task], address: Optional[str] = None, *, checkpoint_dir: Optional[str] = None,
            on_progress: Optional[Callable[[Optional[dict]], None]] = None,
            group_seeds: str = "off") -> Iterator[Outcome]:
    """Run each task as a Ray task; yield outcomes as their results land under the driver's ``--out``.
    ``group_seeds``: the policy of :func:`ganbench.suite.grouping.group_tasks`, with the cluster's
    GPUs (or CPUs) as its workers."""
    try:
        import ray
    except ImportError:
        raise GanbenchError("the ray executor needs Ray: pip install 'ganbench[ray]'") from None
    started = not ray.is_initialized()  # ours to shut down at the end; a caller's Ray stays up
    if started:
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
    gpu = bool(tasks) and tasks[0].config.device.startswith("cuda")
    if group_seeds != "off":
        from ganbench.suite.grouping import group_tasks

        tasks = group_tasks(tasks, group_seeds, int(ray.cluster_resources().get("GPU" if gpu else "CPU", 1)))
    remote = ray.remote(num_gpus=1 if gpu else 0, num_cpus=1, max_retries=0)(_run_on_worker)
    queue = _progress_queue() if on_progress is not None else None
    pending, held = {}, []
    try:
        for task in tasks:
            todo = []
            for member in task.members or (task,):
                if not member.force and is_complete(member):
                    yield Outcome(member.run_id, "skipped")
                elif not claim(Path(member.run_dir)):
                    yield Outcome(member.run_id, "claimed", error="another ganbench process is running it")
                else:
                    todo.append(member)
            if todo:
                held.extend(todo)
                unit = dataclasses.replace(task, members=tuple(todo)) if task.members else task
                pending[remote.remote(unit, checkpoint_dir, 0, queue)] = (unit, 0)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            _drain(queue, on_progress)
            if not done:
                continue
            unit, attempt = pending.pop(done[0])
            members = unit.members or (unit,)
            try:
                results = ray.get(done[0])
            except ray.exceptions.RayTaskError as exc:  # the task itself raised (execute never does)
                results = [(Outcome(m.run_id, "failed", error=f"ray task failed: {exc}"), {}) for m in members]
            except ray.exceptions.RayError as exc:  # node or worker lost: try again elsewhere
                if attempt + 1 < MAX_ATTEMPTS:
                    pending[remote.remote(unit, checkpoint_dir, attempt + 1, queue)] = (unit, attempt + 1)
                    continue
                results = [(Outcome(m.run_id, "failed", error=f"lost {MAX_ATTEMPTS} times: {exc}"), {})
                           for m in members]
            for member, (outcome, files) in zip(members, results):
                write_results(Path(member.run_dir), files)
                release(Path(member.run_dir))
                yield outcome
        _drain(queue, on_progress)
    finally:
        for task in held:
            release(Path(task.run_dir))
        if started:
            ray.shutdown()


def write_results(run_dir: Path, files: dict[str, bytes]) -> None:
    """Write a run's returned files atomically, the record last (a record means its files are there)."""
    for name in sorted(files, key=lambda n: n == RECORD_NAME):
        atomic_write_bytes(run_dir / name, files[name])


def scratch_dir(task: Task) -> Path:
    """This node's scratch for a run: ``$GANBENCH_SCRATCH/<driver-dir hash>/<run id>``."""
    root = Path(os.environ.get("GANBENCH_SCRATCH") or Path(tempfile.gettempdir()) / "ganbench-scratch")
    return root / hashlib.sha1(task.run_dir.encode()).hexdigest()[:12] / task.run_id


def _run_on_worker(task: Task, checkpoint_dir: Optional[str], attempt: int, queue) -> list[tuple[Outcome, dict]]:
    """The Ray task: train and score in scratch (a seed group: every member, together); each
    member's outcome and files, in the task's order."""
    import torch

    torch.set_num_threads(1)
    send = queue.put_nowait if queue is not None else None
    members = [_in_scratch(m, checkpoint_dir, attempt, send) for m in task.members or (task,)]
    reporters = {m.task.run_id: m.reporter for m in members}
    notes = {m.task.run_id: m.notes for m in members}
    if task.members:
        group = dataclasses.replace(task, members=tuple(m.task for m in members), force=False)
        outcomes = execute_group(group, callbacks=reporters, notes=notes)
    else:
        outcomes = [execute(members[0].task, callback=members[0].reporter, notes=members[0].notes)]
    by_id = {o.run_id: o for o in outcomes}
    results = []
    for m in members:
        m.reporter.flush()
        files = {str(p.relative_to(m.scratch)): p.read_bytes() for p in sorted(m.scratch.rglob("*"))
                 if p.is_file() and not p.name.startswith(_NOT_RETURNED) and not p.name.endswith(".tmp")}
        shutil.rmtree(m.scratch, ignore_errors=True)
        results.append((by_id[m.task.run_id], files))
    return results


class _InScratch(NamedTuple):
    """A task as a worker runs it: moved to ``scratch``, with its progress reporter and its
    notes on this attempt."""

    task: Task
    scratch: Path
    reporter: Reporter
    notes: tuple[str, ...]


def _in_scratch(task: Task, checkpoint_dir: Optional[str], attempt: int, send) -> _InScratch:
    """``task`` moved to this node's scratch, its checkpoint pulled from ``checkpoint_dir``."""
    from ganbench.suite.checkpoint_store import CheckpointStore

    config = task.config
    if config.device.startswith("cuda"):
        config = dataclasses.replace(config, device="cuda:0")  # Ray sets CUDA_VISIBLE_DEVICES
    scratch = scratch_dir(task)
    shutil.rmtree(scratch, ignore_errors=True)  # scratch is disposable: --checkpoint-dir is what persists
    store = CheckpointStore(checkpoint_dir, task.run_id) if checkpoint_dir else None
    if store is not None and task.force and attempt == 0:
        store.clear()
    resumable = store.pull(scratch) if store is not None else False
    notes = ()
    if attempt:
        how = "resumed from --checkpoint-dir" if resumable else (
            "no checkpoint kept (no --checkpoint-dir, or none written yet): restarted from scratch")
        notes = (f"attempt {attempt + 1}: the previous attempt was lost with its node or worker; {how}",)
    reporter = Reporter(task.run_id, _worker_label(), send, on_checkpoint=(lambda: store.push(scratch)) if store else None)
    return _InScratch(dataclasses.replace(task, config=config, run_dir=str(scratch), force=False), scratch, reporter,
                      notes)


def _worker_label() -> str:
    """``<node id>/<pid>`` inside Ray; ``<host>/<pid>`` where Ray is not running."""
    try:
        import ray

        if not ray.is_initialized():  # asking the runtime context would start a local Ray here
            raise RuntimeError("not inside Ray")
        node = ray.get_runtime_context().get_node_id()[:8]
    except Exception:  # noqa: BLE001 - called outside a Ray worker (tests)
        node = socket.gethostname()
    return f"{node}/{os.getpid()}"


def _progress_queue():
    """A queue actor on the driver's node (0 CPUs): it must outlive any worker node."""
    import ray
    from ray.util.queue import Queue
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
    return Queue(actor_options={"num_cpus": 0, "scheduling_strategy": here})


def _drain(queue, on_progress) -> None:
    if queue is None:
        return
    try:
        messages = queue.get_nowait_batch(queue.qsize())
    except Exception:  # noqa: BLE001 - progress is best effort
        messages = []
    for msg in messages:
        on_progress(msg)
    on_progress(None)
