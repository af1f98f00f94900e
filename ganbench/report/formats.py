"""The table formats a report can write, parsed without loading the report stack
(``ganbench report --help`` shows them; pandas and matplotlib load only to write)."""

from __future__ import annotations

FORMATS = ("markdown", "csv", "latex")


def parse_formats(formats) -> tuple[str, ...]:
    """Accept ``("markdown", "csv")`` or ``("markdown,csv",)``; reject unknown names."""
    if isinstance(formats, str):
        formats = (formats,)
    names = [f.strip().lower() for item in formats for f in str(item).split(",") if f.strip()]
    unknown = sorted(set(names) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in names)
