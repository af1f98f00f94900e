"""Which of a suite's runs train together as a seed group (training/group.py).

Runs of one benchmark entry that differ only by seed form a group where grouped
training is supported (:func:`ganbench.training.group.check_groupable`) and, with
``--group-seeds auto`` (the default), where it was measured to be faster:

* on CPU, the 2-D MLPs no wider than the quick profile's (:data:`CPU_MAX_WIDTH`
  outputs in every linear layer, a maxout layer's pieces counted): benchmarks/perf/
  seed_groups.py, 10 seeds of the quick ring8 MLP on one thread of an idle AMD EPYC,
  measured 1.04-1.16x the seeds one after another for every variant (docs/performance.md).
  Wider ones are not grouped on CPU: PacGAN's 400-wide MLP measured 0.97-1.02x, its
  ``paper`` entry (maxout critic, simultaneous update) 0.96-0.99x, no gain; nor is the
  DCGAN: 0.79-0.83x;
* on a GPU every supported run: HFTA (Wang et al., MLSys 2021) measured up to
  15x for fused copies of small models there. Not yet timed by ganbench
  (benchmarks/perf/gpu_readiness.py times it when a GPU is lent).

Under ``auto`` a group also holds at most one worker's share of the suite's runs
(``len(tasks) / workers``): a group is one process, so more workers than that would
wait idle while it trains (``ganbench run ring8`` on 16 cores, or a Ray cluster)
and lose far more than grouping gains.

``on`` groups every supported run; ``off`` none. Runs grouping cannot train (batch
norm or spectral norm in a critic differentiated twice, ``compile``, ``autocast_bf16``,
a seconds budget) train alone under ``auto`` and ``on`` alike.
"""

from __future__ import annotations

import dataclasses
import functools

from ganbench.suite.tasks import Task

POLICIES = ("auto", "on", "off")
#: The widest layer (units) of a 2-D MLP that ``auto`` groups on CPU: the quick profile's width,
#: measured faster grouped; 400 was not (see the module docstring).
CPU_MAX_WIDTH = 128


def group_tasks(tasks: list[Task], policy: str = "auto", workers: int = 1) -> list[Task]:
    """``tasks`` with each seed group replaced by one task whose ``members`` are its runs,
    at the place of its first run; the others unchanged, in order. ``workers``: how many
    run at once (see the module docstring)."""
    if policy == "off":
        return list(tasks)
    share = len(tasks) / max(workers, 1)
    groups: dict[tuple, list[Task]] = {}
    for task in tasks:
        key = (task.config.benchmark, task.config.label, _without_seed(task.config), task.eval, task.force)
        groups.setdefault(key, []).append(task)
    out = []
    for members in groups.values():
        fits = policy == "on" or len(members) <= share
        if len(members) > 1 and fits and should_group(members[0].config, policy):
            out.append(dataclasses.replace(members[0], members=tuple(members)))
        else:
            out.extend(members)
    return sorted(out, key=lambda t: tasks.index(t.members[0] if t.members else t))


def should_group(config, policy: str) -> bool:
    """Whether runs of ``config``'s settings train grouped under ``policy`` (see the module docstring)."""
    from ganbench.config.run import resolve
    from ganbench.core.errors import ConfigError
    from ganbench.models import build_models
    from ganbench.training.group import check_groupable

    info = _info(config.dataset, config.data_dir)
    cfg = resolve(dataclasses.replace(config, device="meta"), info.kind)
    cpu_auto = policy == "auto" and not config.device.startswith("cuda")  # only what was measured faster
    if cpu_auto and info.kind != "points":
        return False
    generator, critic = build_models(info, width=cfg.width, z_dim=cfg.z_dim, d_norm=cfg.d_norm, config=cfg)
    if cpu_auto and _widest(generator, critic) > CPU_MAX_WIDTH:
        return False
    try:
        check_groupable([cfg], [generator, critic])
    except ConfigError:
        return False
    return True


def _widest(*networks) -> int:
    """The most output units of any linear layer (a maxout layer's count all its pieces)."""
    from torch import nn

    return max(m.out_features for net in networks for m in net.modules() if isinstance(m, nn.Linear))


@functools.lru_cache(maxsize=None)
def _info(dataset: str, data_dir):
    """A dataset's shape and kind, from its test split (the smaller one)."""
    from ganbench.datasets import load_dataset

    return load_dataset(dataset, "test", data_dir).info


def _without_seed(config) -> str:
    import json

    return json.dumps({**config.to_dict(), "seed": None}, sort_keys=True, default=str)
