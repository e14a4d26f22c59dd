"""The package's shape: a module imports only from its own package or from packages below it
(imports inside functions included), so the math and I/O never depend on the trainers above; and
the training code reads in short functions."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

MMRL = Path(__file__).resolve().parents[2] / "mmrl"

# Lowest first. A package may import any package of a lower rank, none of its own rank or above
# (the root's small modules, rank 0, may use each other).
LAYERS = [
    {"<root>", "errors", "registry", "settings", "console", "versions", "images", "prompting", "response_format"},
    {"io"},
    {"data", "plotting"},
    {"model"},
    {"rewards"},
    {"rollout"},
    {"grading"},
    {"eval"},
    {"train"},
    {"sft", "rl"},
    {"demo", "recipes"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _package(path: Path) -> str:
    parts = path.relative_to(MMRL).with_suffix("").parts
    return parts[0] if len(parts) > 1 else ("<root>" if parts[0] == "__init__" else parts[0])


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported mmrl package) of every import in the file, inside functions too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else \
            [a.name for a in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            parts = name.split(".")
            if parts[0] == "mmrl":
                found.append((node.lineno, parts[1] if len(parts) > 1 else "<root>"))
    return found


def _edges() -> list[tuple[str, int, str, str]]:
    out = []
    for path in sorted(MMRL.rglob("*.py")):
        own = _package(path)
        out += [(str(path.relative_to(MMRL.parent)), line, own, target) for line, target in _imports(path)
                if target != own]
    return out


def test_every_package_has_a_layer():
    packages = {_package(p) for p in MMRL.rglob("*.py")}
    assert packages - set(RANK) == set()


@pytest.mark.parametrize("low, high", [("model", "rl"), ("io", "rewards"), ("model", "train"), ("rewards", "rl")])
def test_named_arrows_do_not_run_back_up(low, high):
    assert [e for e in _edges() if e[2] == low and e[3] == high] == []


def test_no_package_imports_one_at_or_above_its_layer():
    wrong = [f"{file}:{line}: {own} imports {target}" for file, line, own, target in _edges()
             if RANK[target] > RANK[own] or (RANK[target] == RANK[own] != 0)]
    assert wrong == []


@pytest.mark.parametrize("package", ["rl", "sft", "train"])
def test_training_functions_are_at_most_60_lines(package):
    long = []
    for path in sorted((MMRL / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.name}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert long == []
