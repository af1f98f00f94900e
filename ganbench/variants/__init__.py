"""The variant registry. Every module in this package registers itself on import,
so a new variant is one new file here with ``@register_variant("name")``."""

import importlib
import pkgutil

from ganbench.core.plugins import attach, ensure_loaded
from ganbench.variants.base import VARIANTS, Defaults, Variant, register_variant

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")
VARIANTS.loader = ensure_loaded  # variants from outside the package, on first lookup
attach("variant", VARIANTS, lambda name, cls: register_variant(name)(cls))


def make_variant(name: str, **options) -> Variant:
    """Instantiate a registered variant with its options (unknown names/options raise)."""
    return VARIANTS.get(name)(**options)


__all__ = ["VARIANTS", "Defaults", "Variant", "build_options_check", "make_variant", "register_variant"]


def build_options_check(variant_cls: type[Variant], options: dict) -> None:
    """Raise ConfigError if ``options`` are not valid for ``variant_cls``."""
    variant_cls(**options)
