"""Suite workers start with ganbench's glibc malloc tunables, the record says so,
and the tunables change no result."""

import json
import os
import subprocess
import sys
from concurrent.futures import Future
from types import SimpleNamespace

from ganbench.suite import executors
from ganbench.suite.executors import WORKER_MALLOC_ENV, worker_malloc_env
from ganbench.suite.tasks import Outcome


def test_tunables_are_set_while_workers_start_and_removed_after(monkeypatch):
    for key in WORKER_MALLOC_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("MALLOC_TOP_PAD_", "12345")  # the user's own value wins
    with worker_malloc_env():
        seen = {k: os.environ.get(k) for k in WORKER_MALLOC_ENV}
    assert seen == {**WORKER_MALLOC_ENV, "MALLOC_TOP_PAD_": "12345"}
    assert os.environ["MALLOC_TOP_PAD_"] == "12345"
    assert not [k for k in WORKER_MALLOC_ENV if k != "MALLOC_TOP_PAD_" and k in os.environ]


def test_the_local_pool_starts_inside_the_tunables(monkeypatch):
    for key in WORKER_MALLOC_ENV:
        monkeypatch.delenv(key, raising=False)
    started = []

    class Pool:  # stands in for ProcessPoolExecutor: notes the environment its workers would inherit
        def __init__(self, *args, **kwargs):
            started.append({k: os.environ.get(k) for k in WORKER_MALLOC_ENV})

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, task):
            future = Future()
            future.set_result([Outcome(task.run_id, "finished")])  # a worker returns its task's outcomes
            return future

    monkeypatch.setattr(executors, "ProcessPoolExecutor", Pool)
    task = SimpleNamespace(run_id="r", config=SimpleNamespace(device="cpu"))
    assert [o.status for o in executors.run_local([task], workers=1)] == ["finished"]
    assert started == [WORKER_MALLOC_ENV]


TRAIN = """
import json, sys, torch
torch.set_num_threads(1)
from ganbench.config.run import Budget, RunConfig
from ganbench.core.record import comparable
from ganbench.training.trainer import train
r = train(RunConfig("vanilla", "ring8", 0, Budget.parse("1e12flops", max_g_steps=40)), sys.argv[1])
print(json.dumps({"comparable": comparable(r), "allocator": r["device"]["allocator_env"]}))
"""


def _train(tmp_path, name, extra_env):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    proc = subprocess.run([sys.executable, "-c", TRAIN, str(tmp_path / name)], env={**env, **extra_env},
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_tunables_change_no_result_and_are_recorded(tmp_path):
    plain, tuned = _train(tmp_path, "plain", {}), _train(tmp_path, "tuned", WORKER_MALLOC_ENV)
    assert plain["allocator"] == {} and tuned["allocator"] == WORKER_MALLOC_ENV
    assert tuned["comparable"] == plain["comparable"]
