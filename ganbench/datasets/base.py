"""One loader API for every dataset: ``load_dataset(name, split) -> DataSplit``."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import torch
from torch import Tensor

from ganbench.core.errors import UnknownNameError
from ganbench.core.registry import Registry

log = logging.getLogger("ganbench.datasets")



class DatasetRegistry(Registry):
    """The dataset registry, plus families of names with an argument: ``PREFIX:ARG``
    (e.g. ``imagefolder:PATH``) resolves through the family's factory, which
    returns the loader for that argument (and checks the argument first)."""

    def __init__(self):
        super().__init__("dataset")
        #: prefix -> (factory(arg) -> loader, the name's form for messages and listings)
        self.families: dict[str, tuple[Callable[[str], Callable[..., "DataSplit"]], str]] = {}

    def register_family(self, prefix: str, form: str):
        """Decorator for ``factory(arg) -> loader`` serving every name ``PREFIX:ARG``."""

        def decorate(factory):
            self.families[prefix] = (factory, form)
            return factory

        return decorate

    def get(self, name: str):
        prefix, sep, arg = name.partition(":")
        if sep and prefix in self.families:
            return self.families[prefix][0](arg)
        try:
            return super().get(name)
        except UnknownNameError as exc:
            forms = ", ".join(form for _, form in self.families.values())
            raise UnknownNameError(f"{exc}" + (f"; or {forms}" if forms else "")) from None

    def __contains__(self, name: object) -> bool:
        prefix, sep, _ = str(name).partition(":")
        return bool(sep and prefix in self.families) or super().__contains__(name)


#: name -> loader(split, data_dir) -> DataSplit
DATASETS = DatasetRegistry()

SPLITS = ("train", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """What downstream stages need to know about a dataset.

    ``kind`` is "images" (uint8 [N, C, H, W]) or "points" (float32 [N, 2]).
    ``centers``/``std`` describe the true modes of 2-D mixtures. ``cache_id``
    names the data in feature-cache keys where the name alone does not fix the
    content (an image folder: a hash of its files); None: the name does.
    """

    name: str
    kind: str
    shape: tuple[int, ...]
    num_modes: int
    centers: Optional[Tensor] = field(default=None, compare=False)
    std: Optional[float] = None
    cache_id: Optional[str] = None


@dataclass(frozen=True)
class DataSplit:
    """A dataset split held in memory: samples, their labels / mode ids, and info."""

    data: Tensor
    labels: Tensor
    info: DatasetInfo
    # Where the samples came from, for the run record: {"source": place, "files": [...]}
    # for files, {"source": "generated", "generator": {...}} for generated data.
    source: dict = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return self.data.shape[0]


def register_dataset(name: str):
    """Decorator for loader functions ``(split, data_dir) -> DataSplit``."""
    return DATASETS.register(name)


def load_dataset(name: str, split: str = "train", data_dir: str | os.PathLike | None = None) -> DataSplit:
    """Load split ``split`` ("train" or "test") of dataset ``name``.

    ``data_dir`` (or env ``GANBENCH_DATA_DIR``) is where user-provided files are
    looked for first; each loader documents its own search order. A directory
    named there that does not exist is an error: a user who names one has
    almost always mistyped it, and would otherwise train on other data.
    """
    from ganbench.core.errors import ConfigError

    loader = DATASETS.get(name)
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    origin = "--data-dir"
    if data_dir is None and os.environ.get("GANBENCH_DATA_DIR"):
        data_dir, origin = os.environ["GANBENCH_DATA_DIR"], "GANBENCH_DATA_DIR"
    if data_dir and not Path(data_dir).is_dir():
        problem = "is not a directory" if Path(data_dir).exists() else "does not exist"
        raise ConfigError(f"data directory {data_dir} (from {origin}) {problem}; correct the path, or drop {origin} "
                          "to use the system's packages or a download")
    return loader(split, Path(data_dir) if data_dir else None)


def found_in(name: str, split: str, place: str, files: list[Path], tried: list[str]) -> dict:
    """Say where a split's files came from (a warning when the user's directory
    was passed over), and return the record's ``data`` entry."""
    if tried and tried[0].startswith("1. user directory") and "none given" not in tried[0]:
        log.warning("%s %s: not in the user's data directory; read from %s instead. Tried:\n  %s",
                    name, split, place, "\n  ".join(tried))
    else:
        log.info("%s %s: read from %s (%s)", name, split, place, ", ".join(map(str, files)))
    return {"source": place, "files": [str(f) for f in files]}


def to_model_space(images: Tensor) -> Tensor:
    """uint8 images in [0, 255] -> float in [-1, 1] (the generator's tanh range)."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(x: Tensor) -> Tensor:
    """Generator output in [-1, 1] -> uint8 images, rounding to nearest."""
    return ((x.detach().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def cache_dir() -> Path:
    """Where downloads go: ``$GANBENCH_CACHE`` or ``~/.cache/ganbench``."""
    return Path(os.environ.get("GANBENCH_CACHE", Path.home() / ".cache" / "ganbench"))


OFFLINE_VALUES = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False,
                  "off": False, "": False}


def downloads_allowed() -> bool:
    """Downloads are tried unless ``GANBENCH_OFFLINE=1`` (tests and air-gapped users).

    Any case of 1/true/yes/on means offline, 0/false/no/off online; another value
    is an error rather than a guess (``GANBENCH_OFFLINE=True`` used to mean online).
    """
    from ganbench.core.errors import ConfigError

    value = os.environ.get("GANBENCH_OFFLINE", "0")
    if value.strip().lower() not in OFFLINE_VALUES:
        raise ConfigError(f"GANBENCH_OFFLINE={value!r} is neither on (1, true, yes, on) nor off (0, false, no, off)")
    return not OFFLINE_VALUES[value.strip().lower()]
