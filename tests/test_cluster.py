"""The Ray executor on Ray's own multi-node test cluster: no shared filesystem, a node lost mid-suite."""

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
import ray  # CI installs ganbench[ray]: no skip when it is missing
from click.testing import CliRunner
from ray.cluster_utils import Cluster

from ganbench.cli import main
from ganbench.config.benchmarks import discover
from ganbench.core.record import comparable, read_record
from ganbench.suite.cluster import _run_on_worker, run_ray
from ganbench.suite.executors import run_local
from ganbench.suite.grouping import group_tasks
from ganbench.suite.tasks import plan

ROOT = Path(__file__).resolve().parents[1]


def ring8_tasks(out, seeds=(0, 1)):
    """ring8 smoke runs at a third of the smoke budget (CI time): ~500 generator
    steps, so a checkpoint (every 200) comes well before the end."""
    tasks = plan(discover(ROOT / "benchmarks", ("ring8",)), "smoke", out, variants=("vanilla",))
    budget = dataclasses.replace(tasks[0].config.budget, limit=tasks[0].config.budget.limit / 3)
    return [dataclasses.replace(t, config=dataclasses.replace(t.config, budget=budget))
            for t in tasks if t.config.seed in seeds]


def wait_for(predicate, what, timeout=300.0):
    """Poll for an event (a file appearing), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def cluster(tmp_path):
    """A head node without CPUs (runs go to workers only) and two 1-CPU worker
    nodes, each with a scratch directory of its own (as separate machines)."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    nodes = [cluster.add_node(num_cpus=1, env_vars={"GANBENCH_SCRATCH": str(tmp_path / f"scratch{i}")})
             for i in range(2)]
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster, nodes
    ray.shutdown()
    cluster.shutdown()


@pytest.mark.slow
def test_a_node_lost_mid_suite_changes_nothing_in_the_records(cluster, tmp_path):
    cluster, nodes = cluster
    tasks = ring8_tasks(tmp_path / "driver")
    checkpoints = tmp_path / "checkpoints"
    outcomes, messages = [], []
    suite = threading.Thread(target=lambda: outcomes.extend(
        run_ray(tasks, checkpoint_dir=str(checkpoints), on_progress=messages.append)))
    suite.start()
    # The event: node 0's run has written its first checkpoint (in node 0's own scratch).
    wait_for(lambda: any((tmp_path / "scratch0").rglob("checkpoint.pt")), "a checkpoint on node 0")
    cluster.remove_node(nodes[0], allow_graceful=False)
    suite.join(timeout=600)
    assert not suite.is_alive()
    assert sorted(o.status for o in outcomes) == ["finished", "finished"], outcomes
    reported = {m["run_id"] for m in messages if m is not None}
    assert reported and reported <= {t.run_id for t in tasks}, reported  # workers reported progress to the driver

    lost = [t for t in tasks if any("attempt 2" in e for e in read_record(Path(t.run_dir))["resume_events"])]
    assert len(lost) == 1, [read_record(Path(t.run_dir))["resume_events"] for t in tasks]
    events = read_record(Path(lost[0].run_dir))["resume_events"]
    assert any(e.startswith("resumed at generator step") for e in events), events  # from --checkpoint-dir
    for task in tasks:  # results came back to the driver's --out; checkpoints stayed out of it
        run_dir = Path(task.run_dir)
        assert (run_dir / "samples.npy").exists() and sorted(p.name for p in (run_dir / "snapshots").iterdir())
        assert not list(run_dir.glob("checkpoint*"))

    again = list(run_ray(tasks, checkpoint_dir=str(checkpoints)))  # a rerun from the driver redoes nothing
    assert {o.status for o in again} == {"skipped"}

    twins = ring8_tasks(tmp_path / "local")
    assert {o.status for o in run_local(twins, workers=2)} == {"finished"}
    for task, twin in zip(tasks, twins):
        assert comparable(read_record(Path(task.run_dir))) == comparable(read_record(Path(twin.run_dir)))


@pytest.mark.slow
def test_a_seed_group_lost_with_its_node_resumes_elsewhere_as_one(cluster, tmp_path):
    """A seed group is one Ray task: lost with its node, it resumes on the other from every
    member's stored checkpoint, and its records are a local grouped run's."""
    cluster, nodes = cluster
    tasks = ring8_tasks(tmp_path / "driver")
    (group,) = group_tasks(tasks, "on")  # what run_ray makes of them
    assert len(group.members) == 2
    outcomes = []
    suite = threading.Thread(target=lambda: outcomes.extend(
        run_ray(tasks, checkpoint_dir=str(tmp_path / "ckpt"), group_seeds="on")))
    suite.start()
    scratches = [tmp_path / f"scratch{i}" for i in range(2)]
    # every member's first checkpoint stored (a loss between two pushes would split the group on resume)
    stored = [tmp_path / "ckpt" / m.run_id / "checkpoint.pt" for m in group.members]
    wait_for(lambda: all(path.exists() for path in stored), "every member's checkpoint in --checkpoint-dir")
    node = next(i for i, s in enumerate(scratches) if any(s.rglob("checkpoint.pt")))
    cluster.remove_node(nodes[node], allow_graceful=False)
    suite.join(timeout=600)
    assert not suite.is_alive()
    assert sorted(o.run_id for o in outcomes) == sorted(m.run_id for m in group.members)
    assert {o.status for o in outcomes} == {"finished"}, outcomes
    (twin,) = group_tasks(ring8_tasks(tmp_path / "local"), "on")
    assert {o.status for o in run_local([twin], workers=1)} == {"finished"}
    for index, (member, local) in enumerate(zip(group.members, twin.members)):
        record = read_record(Path(member.run_dir))
        assert record["ensemble"] == {"size": 2, "index": index, "seeds": [0, 1]}
        assert any(e.startswith("attempt 2") and "resumed from --checkpoint-dir" in e
                   for e in record["resume_events"]), record["resume_events"]
        assert any(e.startswith("resumed at generator step") for e in record["resume_events"])  # the trainer did
        assert not list(Path(member.run_dir).glob("checkpoint*"))
        assert comparable(record) == comparable(read_record(Path(local.run_dir)))


def test_a_group_lost_between_two_members_pushes_resumes_together(tmp_path, monkeypatch):
    """Members push their checkpoints one after another: a node lost between two pushes leaves
    one member's store a checkpoint ahead. The retry still trains them as one group, from the
    newest step both stored (the store keeps the previous generation too)."""
    from ganbench.suite.checkpoint_store import CheckpointStore
    from ganbench.training.trainer import train_seeds

    monkeypatch.setenv("GANBENCH_SCRATCH", str(tmp_path / "scratch"))
    (group,) = group_tasks(ring8_tasks(tmp_path / "driver"), "on")
    lead, other = group.members
    every = lead.config.checkpoint_every
    stores = {m.run_id: CheckpointStore(str(tmp_path / "ckpt"), m.run_id) for m in group.members}
    dirs = {m.run_id: tmp_path / "lost" / m.run_id for m in group.members}

    def pushing(member, until):  # the first member pushes every checkpoint, the other only the first
        def callback(info):
            if info["checkpointed"] and info["g_step"] <= until:
                stores[member.run_id].push(dirs[member.run_id])
            if info["g_step"] == 2 * every + 1:
                raise KeyboardInterrupt  # the node is lost
        return callback

    with pytest.raises(KeyboardInterrupt):
        train_seeds([m.config for m in group.members], [dirs[m.run_id] for m in group.members], group=True,
                    callbacks=[pushing(lead, 2 * every), pushing(other, every)])
    results = _run_on_worker(group, str(tmp_path / "ckpt"), 1, None)  # the retry, on another node
    (twin,) = group_tasks(ring8_tasks(tmp_path / "local"), "on")
    assert {o.status for o in run_local([twin], workers=1)} == {"finished"}
    for (outcome, files), local in zip(results, twin.members):
        record = json.loads(files["record.json"])
        assert outcome.status == "finished" and record["ensemble"]["size"] == 2, record.get("ensemble")
        assert f"resumed at generator step {every}" in record["resume_events"], record["resume_events"]
        assert comparable(record) == comparable(read_record(Path(local.run_dir)))


def test_a_lost_run_without_checkpoint_dir_restarts_from_scratch_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("GANBENCH_SCRATCH", str(tmp_path / "scratch"))
    (task,) = ring8_tasks(tmp_path / "driver", seeds=(0,))
    [(outcome, files)] = _run_on_worker(task, None, 1, None)  # attempt 2, as after a lost node
    assert outcome.status == "finished"
    assert "record.json" in files and "samples.npy" in files and not any("checkpoint" in n for n in files)
    assert not (tmp_path / "scratch").exists() or not any((tmp_path / "scratch").rglob("*.pt"))  # scratch cleaned
    events = json.loads(files["record.json"])["resume_events"]
    assert any("restarted from scratch" in e and "attempt 2" in e for e in events), events


def test_checkpoint_dir_is_refused_without_ray(tmp_path):
    result = CliRunner().invoke(main, ["run", "ring8", "--checkpoint-dir", str(tmp_path), "--out", str(tmp_path),
                                       "--benchmarks-dir", str(ROOT / "benchmarks")])
    assert result.exit_code == 2 and "--checkpoint-dir is for --executor ray" in result.output
