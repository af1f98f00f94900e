"""Print pyproject.toml's dependency floors as pip/uv constraints, one ``name==floor`` a line.

Used by .ci/lowest-deps, which installs ganbench with exactly these versions and runs a
smoke: every lower bound we declare is then one that is installed and exercised. A
dependency without a ``>=`` floor fails here, since nothing would say which version to test.

    python3 .ci/floors.py [pyproject.toml]
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# name, then a comma list of specifiers; markers (";") and extras ("[x]") are refused
# rather than half-parsed, since none are used and a silent skip would hide a floor.
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*((?:[<>=!~]=?\s*[^,;\s]+\s*,?\s*)*)$")


def floor(requirement: str) -> tuple[str, str]:
    """(name, floor) of one requirement string such as ``"torch>=2.4,<=2.14.1"``."""
    match = _REQ.match(requirement)
    if not match:
        raise SystemExit(f"floors.py: cannot read requirement {requirement!r}; write it as NAME>=FLOOR[,<=CAP]")
    name, specs = match.group(1), match.group(2)
    floors = re.findall(r">=\s*([^,\s]+)", specs)
    if len(floors) != 1:
        raise SystemExit(f"floors.py: {requirement!r} needs exactly one '>=' floor, the version CI installs and tests")
    return name, floors[0]


def constraints(pyproject: Path) -> list[str]:
    """``name==floor`` for each of [project]'s dependencies (the extras are not needed to run)."""
    requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [f"{name}=={version}" for name, version in map(floor, requirements)]


def main(argv: list[str]) -> None:
    print("\n".join(constraints(Path(argv[0] if argv else "pyproject.toml"))))


if __name__ == "__main__":
    main(sys.argv[1:])
