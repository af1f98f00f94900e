"""--tensorboard: losses per step and snapshot metrics per run, read back from the event files."""

import sys

import pytest

from ganbench.core.errors import ConfigError
from ganbench.core.record import SCHEMA_VERSION, write_record
from ganbench.suite.live import TensorBoardLog
from ganbench.suite.tasks import Outcome

RUN = "ring8/vanilla/seed0"


def scalars(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(logdir)).Reload()
    return {tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_losses_and_snapshot_metrics_land_under_the_reports_names(tmp_path):
    run_dir = tmp_path / "runs" / RUN
    write_record(run_dir, {"schema_version": SCHEMA_VERSION, "run_id": RUN, "status": "finished", "config": {},
                           "spent": {}, "snapshots": [
        {"g_step": 50, "metrics": {"modes": 6.0, "fid/fmnist-cnn": 12.5}},
        {"g_step": 100, "metrics": {"modes": 8.0, "fid/fmnist-cnn": 10.25, "note": "text is not a scalar"}},
    ]})
    log = TensorBoardLog(tmp_path / "tb")
    log.update(None)  # a tick: nothing to log
    log.update({"worker": "w", "run_id": RUN, "progress": 0.2, "flops": 1, "losses": [(10, 0.5, 0.75), (20, 0.25, 1.5)]})
    log.update({"worker": "w", "run_id": RUN, "progress": 0.4, "flops": 2, "losses": [(30, "nan", 2.0)]})
    log.finish(Outcome(RUN, "finished"), str(run_dir))
    log.finish(Outcome("ring8/vanilla/seed1", "failed"), str(tmp_path / "missing"))  # no record: nothing logged
    log.close()
    got = scalars(tmp_path / "tb" / RUN)
    assert got["loss/d_loss"][:2] == [(10, 0.5), (20, 0.25)] and got["loss/d_loss"][2][0] == 30
    assert got["loss/g_loss"] == [(10, 0.75), (20, 1.5), (30, 2.0)]
    assert got["metrics/Modes"] == [(50, 6.0), (100, 8.0)]
    assert got["metrics/FID (FMNIST-CNN)"] == [(50, 12.5), (100, 10.25)]
    assert not any("note" in tag for tag in got)
    assert not (tmp_path / "tb" / "ring8" / "vanilla" / "seed1").exists()


def test_missing_tensorboard_is_a_clear_error_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'ganbench\[tensorboard\]'"):
        TensorBoardLog(tmp_path)


def test_cli_names_the_extra_before_training(tmp_path, monkeypatch):
    from pathlib import Path

    from click.testing import CliRunner

    from ganbench.cli import main

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    result = CliRunner().invoke(main, ["run", "ring8", "--tensorboard", str(tmp_path / "tb"), "--out", str(tmp_path),
                                       "--benchmarks-dir", str(benchmarks)])
    assert result.exit_code == 2 and "ganbench[tensorboard]" in result.output
    assert not (tmp_path / "runs").exists()
