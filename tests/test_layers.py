"""The package layout keeps its data flow: stages import only earlier stages, no
module imports itself back through others, no file grows past 300 lines, and
reading records for a report never loads the training stack.

The graph is read from the source with ``ast`` (every ``import``, including
those inside functions), so a lazy import cannot hide an upward edge.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganbench"

#: The stages in the order a run passes through them; a module may import its own
#: stage or an earlier one. docs/architecture.md draws the same list.
LAYERS = {
    "core": 0,
    "datasets": 1, "variants": 1, "extractors": 1,
    "models": 2, "metrics": 2,
    "config": 3,
    "training": 4,
    "evaluation": 5,
    "suite": 6,
    "report": 7,
    "sweep": 7,  # a sweep runs suites and writes its report beside the benchmark's
    "regress": 8,
    "cli": 9,
    "__main__": 10, "__init__": 10,
}
MAX_LINES = 300


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every ganbench module ``path`` imports, resolved to a module that exists."""
    return imports_in(path.read_text(), module_name(path), path.name == "__init__.py")


def imports_in(source: str, name: str, is_package: bool) -> set[str]:
    """The ganbench modules that the module ``name`` with ``source`` imports."""
    package = name if is_package else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target.startswith("ganbench") and target != name:
                found.add(target)
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(path) for path in FILES}


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) for path in FILES}


def test_no_stage_imports_a_later_stage():
    upward = []
    for module, targets in graph().items():
        for target in targets:
            if target == "ganbench":  # __version__, the package itself
                continue
            if LAYERS[stage(target)] > LAYERS[stage(module)]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports from a later stage:\n" + "\n".join(sorted(upward))


def test_every_stage_has_a_layer():
    assert {stage(m) for m in MODULES} <= set(LAYERS), "a new subpackage needs its place in LAYERS"


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle through package-internal edges, or None (iterative DFS)."""
    state: dict[str, int] = {}
    for root in edges:
        if state.get(root):
            continue
        stack = [(root, iter(sorted(edges[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def without_package_inits(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Drop edges from a submodule to its own package's ``__init__``: Python runs the
    ``__init__`` first whatever is imported, so that edge is how a package works."""
    return {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in edges.items()}


def test_no_import_circle():
    cycle = find_cycle(without_package_inits(graph()))
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_constructed_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a"}}) is None


def test_the_graph_sees_lazy_and_relative_imports():
    # A function-level import is still an edge; a relative one resolves to its module.
    source = "from .io import atomic_write_json\ndef f():\n    from ganbench.training import trainer\n"
    assert imports_in(source, "ganbench.core.record", False) == {"ganbench.core.io", "ganbench.training", "ganbench.training.trainer"}


def test_no_file_over_the_line_limit():
    long = [f"{p.relative_to(PACKAGE.parent)}: {n}" for p in FILES + sorted((PACKAGE.parent / "benchmarks").rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"files over {MAX_LINES} lines:\n" + "\n".join(long)


def test_reading_records_for_a_report_does_not_import_the_training_stack():
    code = ("import sys; from pathlib import Path; from ganbench.report import load_records; "
            "load_records(Path('results')); "
            "print(sorted(m for m in sys.modules if m.startswith(('ganbench.training', 'ganbench.variants', "
            "'ganbench.models', 'ganbench.suite'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent,
                         check=True).stdout.strip().splitlines()[-1]
    assert out == "[]", f"loading records imported {out}"
