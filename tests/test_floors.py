"""The floors reader behind .ci/lowest-deps (the CI step that installs every declared
dependency floor and runs the smoke): it must turn each requirement into its floor,
and refuse a requirement it cannot read or one without a floor, never skip it."""

import importlib.util
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("ci_floors", ROOT / ".ci" / "floors.py")
floors = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(floors)


@pytest.mark.parametrize(("requirement", "expected"), [
    ("torch>=2.4,<=2.14.1", ("torch", "2.4")),
    ("numpy>=1.24.1", ("numpy", "1.24.1")),
    ("scikit-learn >= 1.3", ("scikit-learn", "1.3")),
    ("torch-fidelity>=0.4,!=0.4.1", ("torch-fidelity", "0.4")),
])
def test_floor_of_a_requirement(requirement, expected):
    assert floors.floor(requirement) == expected


@pytest.mark.parametrize("requirement", ["torch", "torch<=2.14.1", "torch==2.4", "torch>=2.4,>=2.5",
                                         "torch>=2.4; python_version<'3.12'", "mkdocstrings[python]>=1.0"])
def test_a_requirement_without_one_readable_floor_is_refused(requirement):
    with pytest.raises(SystemExit, match="floors.py"):
        floors.floor(requirement)


def test_every_project_dependency_becomes_one_pin_at_its_floor():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = floors.constraints(ROOT / "pyproject.toml")
    assert len(pins) == len(declared)
    for requirement, pin in zip(declared, pins):
        name, version = pin.split("==")
        assert requirement.startswith(name) and f">={version}" in requirement.replace(" ", "")
