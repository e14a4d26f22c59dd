"""Equivalence cases from graders' own published test suites, read without running them.

Two suites: math-verify's ``tests/`` (in its sdist on PyPI, so obtained from the registry at the
installed version and cached under ``benchmarks/.suites/``, which git ignores) and lighteval's
``tests/unit/metrics/test_extractive_match.py`` (lighteval's sdists ship no such tests, so it is
read from a checkout the user names: ``--suite-dir lighteval=PATH``). Nothing of either suite is
copied into this repository.

The test files are parsed with ``ast`` and never imported or executed. A case is one
``(gold, pred, expected)`` row of a ``pytest.mark.parametrize`` whose test asserts
``compare_strings(...) == expected`` (or an ``assert compare_strings(...)`` with literal
arguments); the options the test passes to its helper (``match_types``, ``precision``,
``language``, ``strict``...) are kept with the case, as are its file and line. A row that is not
made of literals (an f-string computing its gold) and tests of other shapes are not cases: they
are counted as skipped, each with its reason, never dropped silently.
"""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HELPER = "compare_strings"
CACHE = Path(__file__).resolve().parent / ".suites"
SUITES = ("math-verify", "lighteval")
# the file of each suite that holds its equivalence cases (math-verify spreads them over tests/)
LIGHTEVAL_FILE = "test_extractive_match.py"


@dataclass(frozen=True)
class SuiteCase:
    suite: str
    file: str
    line: int
    test: str
    gold: str
    pred: str
    expected: bool
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Skipped:
    file: str
    line: int
    test: str
    reason: str


class NotLiteral(ValueError):
    pass


def literal(node: ast.AST):
    """The value of a literal expression, also ``Language.FRENCH`` (as "FRENCH") and ``"a" + "b"``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand)
        if isinstance(value, (int, float)):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = literal(node.left), literal(node.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Language":
        return node.attr
    raise NotLiteral(f"not a literal: {ast.unparse(node)[:60]}")


def helper_params(trees: list[ast.Module]) -> list[str]:
    """Positional parameter names of the suite's ``compare_strings`` helper."""
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == HELPER:
                return [a.arg for a in node.args.args]
    return ["gold", "pred"]


def _parametrize(dec: ast.AST):
    """``(names, rows)`` of a ``@pytest.mark.parametrize(names, rows)`` decorator, else None."""
    if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute) and dec.func.attr == "parametrize"):
        return None
    if len(dec.args) < 2:
        return None
    names = literal(dec.args[0])
    names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    rows = dec.args[1]
    if not isinstance(rows, (ast.List, ast.Tuple)):
        return None
    return names, rows.elts


def _helper_assertions(fn: ast.FunctionDef):
    """Each ``assert`` of the test that compares the helper's result: (call, expected node or bool)."""
    for node in ast.walk(fn):
        if not isinstance(node, ast.Assert):
            continue
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) \
                and _is_helper(test.left):
            yield test.left, test.comparators[0]
        elif _is_helper(test):
            yield test, True
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and _is_helper(test.operand):
            yield test.operand, False


def _is_helper(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == HELPER


def _resolve(node: ast.AST, bound: dict):
    if isinstance(node, ast.Name) and node.id in bound:
        return bound[node.id]
    return literal(node)


def _case_from_call(call: ast.Call, expected_node, bound: dict, params: list[str]) -> tuple[str, str, bool, dict]:
    args = {params[i]: _resolve(a, bound) for i, a in enumerate(call.args)}
    args.update({k.arg: _resolve(k.value, bound) for k in call.keywords})
    expected = expected_node if isinstance(expected_node, bool) else _resolve(expected_node, bound)
    gold, pred = args.pop("gold"), args.pop("pred")
    if not isinstance(gold, str) or not isinstance(pred, str):
        raise NotLiteral("gold and pred must be strings")
    if expected not in (0, 1, True, False):
        raise NotLiteral(f"expected is {expected!r}, not a verdict")
    return gold, pred, bool(expected), args


def parse_suite_file(suite: str, path: Path, name: str, params: list[str]) -> tuple[list[SuiteCase], list[Skipped]]:
    """The cases and the skipped rows/tests of one test file (its source is parsed, never run)."""
    return cases_of_tree(suite, _tree(path), name, params)


def cases_of_tree(suite: str, tree: ast.Module, name: str, params: list[str]):
    cases, skipped = [], []
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
            continue
        checks = list(_helper_assertions(fn))
        if not checks:
            skipped.append(Skipped(name, fn.lineno, fn.name, f"does not compare {HELPER}(gold, pred) with a verdict"))
            continue
        tables = [p for p in (_parametrize(d) for d in fn.decorator_list) if p is not None]
        if not tables:
            for call, expected in checks:
                try:
                    gold, pred, verdict, opts = _case_from_call(call, expected, {}, params)
                except (NotLiteral, KeyError) as e:
                    skipped.append(Skipped(name, call.lineno, fn.name, str(e)))
                    continue
                cases.append(SuiteCase(suite, name, call.lineno, fn.name, gold, pred, verdict, opts))
            continue
        names, rows = tables[0]
        for row in rows:
            try:
                if isinstance(row, ast.Call) and isinstance(row.func, ast.Attribute) and row.func.attr == "param":
                    row_values = [literal(a) for a in row.args]
                else:
                    row_values = literal(row)
                if not isinstance(row_values, list) or len(row_values) != len(names):
                    raise NotLiteral(f"a row of {len(names)} values expected")
                bound = dict(zip(names, row_values))
                for call, expected in checks:
                    gold, pred, verdict, opts = _case_from_call(call, expected, bound, params)
                    cases.append(SuiteCase(suite, name, row.lineno, fn.name, gold, pred, verdict, opts))
            except (NotLiteral, KeyError) as e:
                skipped.append(Skipped(name, row.lineno, fn.name, str(e)))
    return cases, skipped


def _tree(path: Path) -> ast.Module:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as e:
        raise SuiteUnavailable(f"{path}:{e.lineno}: not a Python test file ({e.msg})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SuiteUnavailable(f"{path}: cannot be read ({e})") from None


def parse_suite(suite: str, files: list[Path], root: Path) -> tuple[list[SuiteCase], list[Skipped]]:
    trees = [_tree(f) for f in files]
    params = helper_params(trees)
    cases, skipped = [], []
    for f, tree in zip(files, trees):
        c, s = cases_of_tree(suite, tree, f.relative_to(root).as_posix(), params)
        cases += c
        skipped += s
    return cases, skipped


class SuiteUnavailable(RuntimeError):
    pass


def _download_sdist_tests(dist: str, version: str, dest: Path) -> None:
    """``pip download`` the sdist of ``dist==version`` and keep its ``tests/*.py`` under ``dest``."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
               f"{dist}=={version}", "-d", tmp]
        print(f"obtaining {dist} {version}'s published tests: {' '.join(cmd[2:])}", file=sys.stderr)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SuiteUnavailable(f"pip download {dist}=={version} failed: {done.stderr.strip()[-300:]}")
        archives = list(Path(tmp).glob("*.tar.gz"))
        if not archives:
            raise SuiteUnavailable(f"no sdist of {dist}=={version} on the index")
        staging = dest.with_name(dest.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        with tarfile.open(archives[0]) as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and "/tests/" in m.name and m.name.endswith(".py") and ".." not in m.name]
            if not members:
                raise SuiteUnavailable(f"the sdist of {dist}=={version} has no tests/ folder")
            for m in members:
                out = staging / m.name.split("/tests/", 1)[1]
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(m).read())
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)


def math_verify_files(version: str, cache: Path = CACHE) -> tuple[list[Path], Path]:
    root = cache / f"math-verify-{version}" / "tests"
    if not root.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        _download_sdist_tests("math-verify", version, root)
    return sorted(root.rglob("test_*.py")), root


def lighteval_files(suite_dir: Path) -> tuple[list[Path], Path]:
    if not suite_dir.exists():
        raise SuiteUnavailable(f"--suite-dir lighteval={suite_dir}: no such folder")
    found = sorted(suite_dir.rglob(LIGHTEVAL_FILE)) if suite_dir.is_dir() else [suite_dir]
    if not found:
        raise SuiteUnavailable(f"--suite-dir lighteval={suite_dir}: no {LIGHTEVAL_FILE} under it")
    return found[:1], found[0].parent


def load(suite: str, *, math_verify_version: str | None = None, suite_dir: Path | None = None,
         cache: Path = CACHE) -> tuple[list[SuiteCase], list[Skipped]]:
    """The cases of one suite (see the module docstring for where each comes from)."""
    if suite == "math-verify":
        if suite_dir is not None:
            files, root = sorted(suite_dir.rglob("test_*.py")), suite_dir
        else:
            if not math_verify_version:
                raise SuiteUnavailable("math-verify's version is needed to fetch its published tests")
            files, root = math_verify_files(math_verify_version, cache)
    elif suite == "lighteval":
        if suite_dir is None:
            raise SuiteUnavailable("lighteval's sdists ship no tests/unit/metrics: pass --suite-dir lighteval=PATH "
                                   "(a checkout of github.com/huggingface/lighteval, or its test_extractive_match.py)")
        files, root = lighteval_files(suite_dir)
    else:
        raise ValueError(f"unknown suite {suite!r}: one of {', '.join(SUITES)}")
    if not files:
        raise SuiteUnavailable(f"{suite}: no test files found under {root}")
    return parse_suite(suite, files, root)
