"""Markdown output shared by every report section."""

from __future__ import annotations


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table; the first column left-aligned."""
    def line(cells):
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    align = [":--"] + ["--:"] * (len(header) - 1)
    return "\n".join([line(header), line(align)] + [line(r) for r in rows])
