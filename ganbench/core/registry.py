"""A tiny name -> object registry, shared by variants, datasets and extractors.

Modelled on torch-fidelity's registries: entries register themselves with a
decorator at import time, lookups of unknown names list the valid ones.
"""

from __future__ import annotations

from typing import Callable, Generic, Iterator, Optional, TypeVar

from ganbench.core import plugins
from ganbench.core.errors import UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to registered objects of one kind ("variant", "dataset", ...)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        #: Called before every lookup (ganbench.core.plugins.ensure_loaded for variants and datasets).
        self.loader: Optional[Callable[[], None]] = None

    def _load(self) -> None:
        if self.loader is not None:
            self.loader()

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; duplicates are an error."""

        def decorate(obj: T) -> T:
            if name in self._entries and not replace and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            plugins.note_registration(self.kind, name, obj)
            return obj

        return decorate

    def unregister(self, name: str) -> None:
        """Remove ``name`` (used by tests that register temporary entries)."""
        self._entries.pop(name, None)

    def get(self, name: str) -> T:
        """Return the entry for ``name`` or raise an error listing valid names."""
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            valid = ", ".join(self.names()) or "(none registered)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid {self.kind}s: {valid}") from None

    def names(self, *, load: bool = True) -> list[str]:
        """Registered names, sorted (``load=False``: without loading plugins first)."""
        if load:
            self._load()
        return sorted(self._entries)

    def holds(self, obj: object) -> bool:
        """True when ``obj`` is registered under some name (plugins not loaded)."""
        return any(entry is obj for entry in self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
