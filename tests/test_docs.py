"""The documentation site's table of contents points at pages that exist.

``mkdocs build --strict`` (in .ci/run) checks every link in full; these checks are
the cheap part of that, run with the tests: every page that mkdocs.yml's ``nav``
names, and every ``docs/`` page the README links to, is a file under ``docs/``.
mkdocs.yml is read as text (no PyYAML, no mkdocs), because its nav is a plain list
of ``Title: path.md`` lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: "- Title: page.md" or "- page.md" inside the nav block.
NAV_PAGE = re.compile(r"^\s*-\s+(?:[^:\n]+:\s+)?([\w./-]+\.md)\s*$")
#: A link or bare mention of a docs page: ](docs/x.md), ](docs/x.md#anchor), `docs/x.md`.
README_DOC = re.compile(r"\bdocs/([\w./-]+\.md)")


def nav_pages(mkdocs_yml: str) -> list[str]:
    """The pages named in the ``nav:`` block of an mkdocs.yml, in order."""
    pages, in_nav = [], False
    for line in mkdocs_yml.splitlines():
        if re.match(r"^nav:\s*$", line):
            in_nav = True
            continue
        if in_nav and line and not line[0].isspace() and not line.startswith("-"):
            break  # the next top-level key ends the nav block
        match = NAV_PAGE.match(line) if in_nav else None
        if match:
            pages.append(match.group(1))
    return pages


def readme_doc_links(readme: str) -> list[str]:
    """The docs pages (paths under docs/) the README names or links to."""
    return sorted(set(README_DOC.findall(readme)))


def missing(pages: list[str]) -> list[str]:
    return [page for page in pages if not (DOCS / page).is_file()]


def test_nav_parser_reads_nested_sections_and_stops_at_the_next_key():
    text = ("site_name: x\nnav:\n  - Home: index.md\n  - Group:\n      - A page: sub/a.md\n"
            "      - b.md\n  - External: https://example.org\nplugins:\n  - search\n")
    assert nav_pages(text) == ["index.md", "sub/a.md", "b.md"]


def test_readme_parser_finds_links_and_mentions_once():
    text = "see [the site](docs/methodology.md#budgets), `docs/architecture.md` and docs/methodology.md"
    assert readme_doc_links(text) == ["architecture.md", "methodology.md"]


def test_every_nav_page_exists():
    pages = nav_pages((ROOT / "mkdocs.yml").read_text())
    assert len(pages) >= 10, f"mkdocs.yml's nav names only {pages}: did the nav parser lose it?"
    assert not missing(pages), f"mkdocs.yml's nav names pages that are not under docs/: {missing(pages)}"


def test_every_docs_page_the_readme_links_exists():
    links = readme_doc_links((ROOT / "README.md").read_text())
    assert links, "the README links no docs/ page: it should point into the documentation"
    assert not missing(links), f"README.md links docs pages that do not exist: {missing(links)}"


@pytest.mark.parametrize("page", ["index.md", "getting-started.md", "architecture.md", "api/index.md"])
def test_the_front_pages_are_in_the_nav(page):
    assert page in nav_pages((ROOT / "mkdocs.yml").read_text())
