"""Where a training step's real and fake packs come from.

By default every real batch is ``batch_size * pack`` points drawn uniformly
with replacement, fresh each step, and the generator makes all of a batch's
fakes in one call. PacGAN's code (fjxmlzn/PacGAN synthetic_data_experiments/,
``pacgan/datasets.py`` and ``streams.py``) does both differently, and a run can
ask for its way (RunConfig ``real_packs = "fixed"``, ``g_per_slot``):

* fixed packs: the training points are paired into packs once (each slot an
  independent resample with replacement of the N training points, N packs),
  and every epoch visits those same N packs in a new random order,
  ``batch_size`` packs per step. PacGAN draws them from the unseeded global
  numpy stream; here they come from the run's seed, so a run is reproducible
  and resumes bit-identically (the position is the count of real batches drawn).
* per-slot generator calls: see :func:`ganbench.models.generate_per_slot`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ganbench.core.errors import ConfigError
from ganbench.datasets import to_model_space
from ganbench.models import generate_per_slot, pack_samples

#: Keeps the pack streams apart from every other stream a seed starts.
PACK_STREAM = 20_231


class FixedPacks:
    """``n_points`` packs of ``pack`` point indices, fixed for the run; batch ``i`` of the
    run is a pure function of (seed, i): epoch ``i // batches_per_epoch``'s order, sliced."""

    def __init__(self, n_points: int, pack: int, batch_size: int, seed: int):
        if n_points < batch_size:
            raise ConfigError(f"real_packs = 'fixed' needs at least batch_size = {batch_size} training points, "
                              f"got {n_points}; lower batch_size or use real_packs = 'fresh'")
        rng = np.random.default_rng([PACK_STREAM, seed])
        self.slots = torch.from_numpy(rng.integers(0, n_points, size=(n_points, pack)))  # pack j = points slots[j]
        self.seed, self.batch_size = seed, batch_size
        self.batches_per_epoch = n_points // batch_size  # a last partial batch is dropped
        self.drawn = 0  # real batches drawn so far; the trainer sets it on resume
        self._order: tuple[Optional[int], Optional[torch.Tensor]] = (None, None)

    def order(self, epoch: int) -> torch.Tensor:
        """Epoch ``epoch``'s permutation of the packs (cached for the current epoch)."""
        if self._order[0] != epoch:
            rng = np.random.default_rng([PACK_STREAM, self.seed, epoch])
            self._order = (epoch, torch.from_numpy(rng.permutation(len(self.slots))))
        return self._order[1]

    def batch_indices(self, i: int) -> torch.Tensor:
        """Point indices of batch ``i`` in pack order: [batch_size * pack]."""
        epoch, position = divmod(i, self.batches_per_epoch)
        chosen = self.order(epoch)[position * self.batch_size:(position + 1) * self.batch_size]
        return self.slots[chosen].reshape(-1)

    def next_indices(self) -> torch.Tensor:
        self.drawn += 1
        return self.batch_indices(self.drawn - 1)


def make_packs(config, n_points: int) -> Optional[FixedPacks]:
    """The run's fixed packs, or None for fresh uniform batches."""
    return FixedPacks(n_points, config.pack, config.batch_size, config.seed) if config.real_packs == "fixed" else None


def g_step_draws_real(run) -> bool:
    """Whether each generator step draws a real batch of its own: an alternating step of a
    relativistic objective (``g_uses_real``); a simultaneous step's generator shares the critic's."""
    return run.variant.g_uses_real and run.config.update != "simultaneous"


def batches_drawn(run, spent) -> int:
    """Real batches a run has drawn after ``spent`` (a budget ``Spent``): one per critic step
    in both update modes, plus one per generator step that draws its own (:func:`g_step_draws_real`)."""
    return spent.d_steps + (spent.g_steps if g_step_draws_real(run) else 0)


def real_batch(run) -> torch.Tensor:
    """``run``'s next real batch in model space, on its device: ``batch_size`` packs of ``pack`` samples."""
    cfg = run.config
    if run.fixed_packs is None:
        idx = torch.randint(len(run.data), (cfg.batch_size * cfg.pack,))
    else:
        idx = run.fixed_packs.next_indices()
    batch = run.data.data[idx].to(run.device)
    batch = to_model_space(batch) if batch.dtype == torch.uint8 else batch
    batch = pack_samples(batch, cfg.pack)
    return batch.contiguous(memory_format=torch.channels_last) if cfg.channels_last else batch


def calls_per_slot(config) -> bool:
    """Whether the generator is called once per pack slot (``g_per_slot``, with packs of 2 or more)."""
    return config.g_per_slot and config.pack > 1


def fake_batch(run) -> torch.Tensor:
    """The generator's batch, packed as the real one (one call, or one per slot with ``g_per_slot``)."""
    z = run.sample_z()
    if calls_per_slot(run.config):
        return generate_per_slot(run.generator, z, run.config.pack)
    return pack_samples(run.generator(z), run.config.pack)
