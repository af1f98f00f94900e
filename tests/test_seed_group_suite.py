"""The suite's seed groups (suite/grouping.py): which runs group under each policy, and
grouped tasks through the local pool (one outcome and one scored record per member)."""

from dataclasses import replace
from pathlib import Path

from ganbench.config.benchmarks import discover
from ganbench.core.record import read_record
from ganbench.suite.executors import run_local
from ganbench.suite.grouping import group_tasks
from ganbench.suite.tasks import plan
from ganbench.variants import VARIANTS

ROOT = Path(__file__).resolve().parents[1]


def smoke(out, names, variants=(), profile="smoke"):
    """The smoke plan with seeds 0 and 1 (fashion-mnist's smoke profile has one seed)."""
    benchmarks = [b.with_seeds(profile, (0, 1)) for b in discover(ROOT / "benchmarks", names)]
    return plan(benchmarks, profile, out, variants=variants)


def grouped_labels(tasks) -> dict[str, int]:
    return {t.config.label: len(t.members) for t in tasks if t.members}


def test_auto_groups_the_cpu_mlps_measured_faster(tmp_path):
    tasks = smoke(tmp_path, ("ring8",))
    grouped = group_tasks(tasks, "auto")
    assert grouped_labels(grouped) == {v: 2 for v in VARIANTS.names()}  # every variant, hinge's spectral norm too
    assert sorted(t.run_id for g in grouped for t in (g.members or (g,))) == sorted(t.run_id for t in tasks)
    assert grouped_labels(group_tasks(tasks, "on")) == grouped_labels(grouped)
    assert group_tasks(tasks, "off") == tasks
    quick = smoke(tmp_path, ("ring8",), profile="quick")  # the width (128) measured faster grouped
    assert grouped_labels(group_tasks(quick, "auto")) == grouped_labels(grouped)
    # a group holds at most one worker's share of the runs: 16 runs on 8 workers, 2 each; on 9 or more
    # workers a 2-seed group would leave some idle while it trains, so auto keeps them apart
    assert grouped_labels(group_tasks(tasks, "auto", workers=8)) == grouped_labels(grouped)
    assert group_tasks(tasks, "auto", workers=9) == tasks
    assert grouped_labels(group_tasks(tasks, "on", workers=16)) == grouped_labels(grouped)
    # what grouped training cannot train stays alone under every policy: a spectral-normed critic
    # differentiated twice (wgan-gp's penalty)
    unsupported = [replace(t, config=replace(t.config, d_norm="spectral")) if t.config.label == "wgan-gp" else t
                   for t in tasks]
    for policy in ("auto", "on"):
        apart = group_tasks(unsupported, policy)
        assert "wgan-gp" not in grouped_labels(apart) and len(grouped_labels(apart)) == len(VARIANTS.names()) - 1
        assert [t.config.label for t in apart if not t.members] == ["wgan-gp", "wgan-gp"]


def test_images_group_only_when_asked_on_cpu(tmp_path):
    tasks = smoke(tmp_path, ("fashion-mnist",))
    assert grouped_labels(group_tasks(tasks, "auto")) == {}  # the DCGAN: measured slower grouped on CPU
    on = grouped_labels(group_tasks(tasks, "on"))
    assert on.get("vanilla") == 2 and on.get("hinge") == 2  # batch norm and spectral norm group
    cuda = [replace(t, config=replace(t.config, device="cuda")) for t in tasks]
    assert grouped_labels(group_tasks(cuda, "auto")) == on  # on a GPU every supported run groups


def test_pacgans_wide_mlps_group_only_when_asked_on_cpu(tmp_path):
    tasks = smoke(tmp_path, ("pacgan-ring8",), profile="cpu")  # 400-wide, simultaneous update, per-slot calls
    assert grouped_labels(group_tasks(tasks, "auto")) == {}  # measured no faster grouped on CPU
    on = grouped_labels(group_tasks(tasks, "on"))
    assert on == {entry: 2 for entry in ("GAN", "PacGAN2", "PacGAN3", "PacGAN4")}
    cuda = [replace(t, config=replace(t.config, device="cuda")) for t in tasks]
    assert grouped_labels(group_tasks(cuda, "auto")) == on


def test_grouped_tasks_through_the_pool_score_every_member(tmp_path):
    planned = smoke(tmp_path, ("ring8",), variants=("vanilla", "wgan-gp"))
    alone = [replace(t, config=replace(t.config, d_norm="spectral")) if t.config.label == "wgan-gp" else t
             for t in planned]  # a spectral-normed critic under a gradient penalty cannot group
    tasks = group_tasks(alone, "auto")
    assert sorted(len(t.members) for t in tasks) == [0, 0, 2]  # wgan-gp's seeds alone, vanilla's together
    outcomes = list(run_local(tasks, workers=1))
    assert sorted(o.run_id for o in outcomes) == sorted(f"ring8/{v}/seed{s}" for v in ("vanilla", "wgan-gp")
                                                        for s in (0, 1))
    assert {o.status for o in outcomes} == {"finished"}
    for seed in (0, 1):
        record = read_record(tmp_path / "runs" / "ring8" / "vanilla" / f"seed{seed}")
        assert record["ensemble"] == {"size": 2, "index": seed, "seeds": [0, 1]}
        assert all(s["metrics"] for s in record["snapshots"])
        assert "ensemble" not in read_record(tmp_path / "runs" / "ring8" / "wgan-gp" / f"seed{seed}")
    assert {o.status for o in run_local(tasks, workers=1)} == {"skipped"}


def test_the_cli_groups_by_the_workers_it_runs(tmp_path, monkeypatch):
    """`ganbench run` hands group_tasks its worker count: on 2 workers ring8's smoke seeds group,
    on 16 they run apart."""
    from click.testing import CliRunner

    from ganbench.cli import main
    from ganbench.suite import executors
    from ganbench.suite.tasks import Outcome

    seen = []

    def fake_pool(units, workers, on_progress=None):  # records what the CLI planned; trains nothing
        seen.append([len(u.members) for u in units])
        return iter([Outcome(t.run_id, "skipped") for u in units for t in (u.members or (u,))])

    monkeypatch.setattr(executors, "run_local", fake_pool)
    for workers in (2, 16):
        result = CliRunner().invoke(main, ["run", "ring8", "--profile", "smoke", "--workers", str(workers),
                                           "--out", str(tmp_path / str(workers)), "--no-report",
                                           "--benchmarks-dir", str(ROOT / "benchmarks")])
        assert result.exit_code == 0, result.output
    assert seen == [[2] * len(VARIANTS.names()), [0] * 2 * len(VARIANTS.names())]
