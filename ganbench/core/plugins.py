"""Variants and datasets defined outside the package.

Three ways in, all loaded on the first lookup of a variant or dataset (so
``ganbench --help`` and ``ganbench report`` never import a plugin):

- the entry-point groups ``ganbench.variants`` / ``ganbench.datasets`` of any
  installed distribution; an entry point may name a module (which registers
  with ``@register_variant`` / ``@register_dataset``) or the variant class /
  loader function itself (registered under the entry point's name);
- ``GANBENCH_PLUGINS=mod1,mod2``: modules imported by name;
- ``ganbench --plugin MODULE`` (repeatable), which adds to ``GANBENCH_PLUGINS``
  so suite worker processes load the same plugins.

A plugin that fails to import or register raises :class:`PluginError` naming it.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points
from typing import Callable, Iterable

from ganbench.core.errors import GanbenchError

ENV = "GANBENCH_PLUGINS"
GROUPS = {"variant": "ganbench.variants", "dataset": "ganbench.datasets"}
BUILTIN = "builtin"

_origins: dict[tuple[str, str], str] = {}  # (kind, name) -> where it came from
_state = {"loaded": False, "loading": False, "error": None, "source": None}
_attached: dict[str, tuple] = {}  # kind -> (registry, register(name, obj)), set by attach()
_pending: dict[str, list] = {}  # kind -> entry points loaded before their registry was imported


class PluginError(GanbenchError):
    """A plugin module or entry point that cannot be loaded."""


def request(modules: Iterable[str]) -> None:
    """Ask for ``modules`` to be loaded (``--plugin``); child processes inherit them."""
    wanted = [m for m in env_modules() + [m.strip() for m in modules] if m]
    if wanted:
        os.environ[ENV] = ",".join(dict.fromkeys(wanted))
        _state.update(loaded=False, error=None)


def env_modules() -> list[str]:
    return [m.strip() for m in os.environ.get(ENV, "").split(",") if m.strip()]


def origin(kind: str, name: str) -> str:
    """Where a registered variant / dataset came from: builtin, an entry point or a module."""
    return _origins.get((kind, name), BUILTIN)


def ensure_loaded() -> None:
    """Load every plugin once; re-raise the same PluginError on every later call."""
    if _state["error"] is not None:
        raise _state["error"]
    if _state["loaded"] or _state["loading"]:
        return
    _state["loading"] = True
    try:
        for kind, group in GROUPS.items():
            for ep in entry_points(group=group):
                _load(kind, f"entry point {ep.value} ({group})",
                      lambda ep=ep, kind=kind: _register_object(kind, ep.name, ep.load()))
        for module in env_modules():
            _load(None, f"plugin module {module}", lambda module=module: importlib.import_module(module))
        _state["loaded"] = True
    except PluginError as exc:
        _state["error"] = exc
        raise
    finally:
        _state["loading"] = False


def attach(kind: str, registry, register: Callable[[str, object], None]) -> None:
    """Called by a registry's package on import (variants, datasets): entry points of
    ``kind`` that named an object before the package was imported register now.

    Plugins sit below every registry, so the registries come to them: this module
    imports none of them."""
    _attached[kind] = (registry, register)
    for name, obj, source in _pending.pop(kind, []):
        _with_source(source, lambda name=name, obj=obj: _register_object(kind, name, obj))


def note_registration(kind: str, name: str, obj: object) -> None:
    """Called by :class:`ganbench.core.registry.Registry` for every entry: an entry
    registered while a plugin loads is that plugin's, unless it comes from ganbench."""
    source = _state["source"]
    if source is not None and not getattr(obj, "__module__", "").startswith("ganbench."):
        _origins[(kind, name)] = source


def _with_source(source: str, load: Callable[[], object]) -> None:
    previous, _state["source"] = _state["source"], source
    try:
        load()
    finally:
        _state["source"] = previous


def _load(kind, source: str, load: Callable[[], object]) -> None:
    """Run ``load``; name ``source`` as the origin of whatever it registered."""
    try:
        _with_source(source, load)
    except Exception as exc:  # any failure inside third-party code is the plugin's
        raise PluginError(f"{source} failed to load: {type(exc).__name__}: {exc}; fix it, uninstall it "
                          f"or remove it from --plugin / {ENV}") from exc


def _register_object(kind: str, name: str, obj: object) -> None:
    """An entry point naming a variant class or a dataset loader registers it under its name."""
    import types

    if isinstance(obj, types.ModuleType):
        return  # the module registered its entries on import
    if kind not in _attached:  # its registry's package is not imported yet: attach() registers it
        _pending.setdefault(kind, []).append((name, obj, _state["source"]))
        return
    registry, register = _attached[kind]
    if not registry.holds(obj):
        register(name, obj)
