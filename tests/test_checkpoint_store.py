"""--checkpoint-dir: a run's checkpoint and snapshots pushed after each checkpoint, pulled by a retry."""

import pytest

from ganbench.suite.checkpoint_store import CheckpointStore

RUN = "ring8/vanilla/seed0"


def fill(run_dir, checkpoint=b"ckpt-1", snapshots=("g_0.50.pt",)):
    (run_dir / "snapshots").mkdir(parents=True, exist_ok=True)
    (run_dir / "checkpoint.pt").write_bytes(checkpoint)
    for name in snapshots:
        (run_dir / "snapshots" / name).write_bytes(name.encode())
    (run_dir / "record.json").write_text("{}")  # the record is not the store's business


@pytest.mark.parametrize("kind", ["path", "url"])
def test_push_then_pull_on_another_node_restores_checkpoint_and_snapshots(tmp_path, kind):
    root = str(tmp_path / "store") if kind == "path" else f"memory://ganbench-test-{tmp_path.name}"
    node_a, node_b = tmp_path / "a", tmp_path / "b"
    store = CheckpointStore(root, RUN)
    assert not store.pull(node_b)  # nothing stored yet
    fill(node_a)
    store.push(node_a)
    assert sorted(store.names()) == ["checkpoint.pt", "snapshots/g_0.50.pt"]
    fill(node_a, checkpoint=b"ckpt-2", snapshots=("g_0.50.pt", "g_1.00.pt"))
    (node_a / "checkpoint.prev.pt").write_bytes(b"ckpt-1")  # the trainer keeps one generation back
    store.push(node_a)
    assert sorted(store.names()) == ["checkpoint.prev.pt", "checkpoint.pt", "snapshots/g_0.50.pt",
                                     "snapshots/g_1.00.pt"]
    retry = CheckpointStore(root, RUN)
    assert retry.pull(node_b)
    assert (node_b / "checkpoint.pt").read_bytes() == b"ckpt-2"
    assert (node_b / "checkpoint.prev.pt").read_bytes() == b"ckpt-1"  # a group's members resume at a common step
    assert (node_b / "snapshots" / "g_1.00.pt").read_bytes() == b"g_1.00.pt"
    assert not (node_b / "record.json").exists()
    retry.clear()
    assert CheckpointStore(root, RUN).names() == []


def test_a_url_without_fsspec_names_the_extra(tmp_path, monkeypatch):
    import sys

    from ganbench.core.errors import ConfigError

    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ConfigError, match=r"ganbench\[fsspec\]"):
        CheckpointStore("s3://bucket/ganbench", RUN)
