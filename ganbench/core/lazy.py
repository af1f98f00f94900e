"""Package attributes resolved on first use (PEP 562), so importing a package for
one light name does not import its heavy siblings (torch, pandas, matplotlib)."""

from __future__ import annotations

import importlib
from typing import Any, Callable


def lazy_getattr(package: str, names: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[attr]`` (a module path) on the first
    access to ``attr``, stores the value in ``namespace`` (the package's globals, so
    later reads are plain lookups) and returns it; other names raise AttributeError.

    ``from package import attr`` works unchanged. Do not list an attribute that is
    also a submodule's name: importing the submodule rebinds the attribute to it.
    """
    def __getattr__(attr: str) -> Any:
        if attr not in names:
            raise AttributeError(f"module {package!r} has no attribute {attr!r}")
        value = getattr(importlib.import_module(names[attr]), attr)
        namespace[attr] = value
        return value

    return __getattr__
