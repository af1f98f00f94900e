"""Each member of a seed group draws from its own random stream (training/group.py).

A run alone draws every random number (its real batch's indices, its latents, a
penalty's interpolation weights) from torch's global generator, seeded by its
config. Trained in a group, member ``i`` must draw exactly those numbers, so its
record is the run's own. :class:`MemberStreams` holds one ``torch.Generator``
per member (per device), started from the global state the member's run left
behind when it was built or restored, and routes torch's random factories to it
while it is active:

* ``with streams.member(i):`` sends every draw to member ``i``'s generator (the
  trainer draws each member's batches this way, outside ``vmap``);
* ``with streams.batched(index):`` inside ``torch.func.vmap``, where ``index`` is
  the batched member number: each draw is made once per member from that
  member's generator and the member's own is picked out, so a variant's loss
  keeps its single-run code and still draws its single-run numbers.

Random functions it cannot route (``bernoulli``, ``dropout``, in-place
``uniform_`` ...) raise instead of drawing from a stream shared by the members.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Optional

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ganbench.core.errors import GanbenchError

#: Factories that take ``generator=``: routed to the member's stream.
ROUTED = (torch.rand, torch.randn, torch.randint, torch.randperm)
#: Random functions without a ``generator=`` a member could be given: refused by name.
REFUSED = (torch.rand_like, torch.randn_like, torch.randint_like, torch.bernoulli, torch.multinomial,
           torch.poisson, torch.normal, F.dropout, torch.Tensor.uniform_, torch.Tensor.normal_,
           torch.Tensor.random_, torch.Tensor.bernoulli_, torch.Tensor.exponential_, torch.Tensor.geometric_,
           torch.Tensor.cauchy_, torch.Tensor.log_normal_)


class MemberStreams(TorchFunctionMode):
    """One random stream per member; see the module docstring."""

    def __init__(self, states: list[dict[str, torch.Tensor]], device: torch.device):
        super().__init__()
        self.device = device
        self.generators = []
        for state in states:
            gens = {"cpu": torch.Generator()}
            gens["cpu"].set_state(state["cpu"])
            if "cuda" in state:
                gens["cuda"] = torch.Generator(device)
                gens["cuda"].set_state(state["cuda"])
            self.generators.append(gens)
        self._member: Optional[int] = None
        self._index: Optional[torch.Tensor] = None

    def state(self, i: int) -> dict[str, torch.Tensor]:
        """Member ``i``'s stream states, in :func:`ganbench.training.checkpoint.rng_state`'s format (its checkpoint's ``rng``)."""
        return {kind: gen.get_state() for kind, gen in self.generators[i].items()}

    @contextmanager
    def member(self, i: int) -> Iterator[None]:
        """Route draws to member ``i``'s stream."""
        self._member = i
        try:
            with self:
                yield
        finally:
            self._member = None

    @contextmanager
    def batched(self, index: torch.Tensor) -> Iterator[None]:
        """Inside ``vmap``: route draws to the stream of the member ``index`` (batched) names."""
        self._index = index
        try:
            with self:
                yield
        finally:
            self._index = None

    def _generator(self, i: int, kwargs: dict) -> torch.Generator:
        device = torch.device(kwargs.get("device") or "cpu")
        return self.generators[i]["cuda" if device.type == "cuda" else "cpu"]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in ROUTED:
            if "generator" in kwargs:
                raise GanbenchError(f"grouped training: torch.{func.__name__} was given its own generator; "
                                    "draw from the run's stream (no generator=) so each member gets its own")
            if self._member is not None:
                return func(*args, generator=self._generator(self._member, kwargs), **kwargs)
            draws = [func(*args, generator=self._generator(i, kwargs), **kwargs) for i in range(len(self.generators))]
            # index_select, not [index]: older torch turns a 0-dim index into .item(), which vmap refuses
            return torch.stack(draws).index_select(0, self._index.reshape(1)).squeeze(0)
        if func in REFUSED:
            raise GanbenchError(f"grouped training cannot give each member its own stream for "
                                f"{getattr(func, '__qualname__', func)}; draw with torch.rand / randn / randint "
                                "(which it routes), or train the seeds one at a time (--group-seeds off)")
        return func(*args, **kwargs)
