"""The table behind the adversarial tests (issue 20): one row a case, checked the same way.

A row names the command's arguments, the files it may not change, the exit status and the words
the user must see. ``check`` runs the command in process and asserts, for every row: the exit
status, the message (on stderr, or anywhere in the output), no Python traceback, and every
guarded file byte-for-byte as it was before the command ran.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

# args(tmp_path, fixtures) -> the command's words; setup(tmp_path, fixtures) -> paths to guard.
Args = Callable[[Path, dict], Sequence[str]]
Setup = Callable[[Path, dict], Sequence[Path]]


@dataclass(frozen=True)
class Case:
    id: str                      # short name, shown by pytest
    item: str                    # the item number (20.N), so the table maps onto the issue
    args: Args
    message: str                 # a part of what the user must be told
    exit_code: int = 2
    setup: Setup = field(default=lambda tmp, fx: [])
    input: str | None = None     # stdin
    cwd: Callable[[Path, dict], Path] | None = None  # the folder to run in (after setup); None: as is

    def __str__(self) -> str:
        return f"{self.item}-{self.id}"


def _snapshot(paths: Sequence[Path]) -> dict[Path, bytes | None]:
    out: dict[Path, bytes | None] = {}
    for p in paths:
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not f.is_symlink():
                    out[f] = f.read_bytes()
        else:
            out[p] = p.read_bytes() if p.exists() else None
    return out


def check(cli, case: Case, tmp_path: Path, fixtures: dict) -> None:
    guarded = list(case.setup(tmp_path, fixtures))
    before = _snapshot(guarded)
    cwd = os.getcwd()
    if case.cwd is not None:
        os.chdir(case.cwd(tmp_path, fixtures))
    try:
        result = cli(*[str(a) for a in case.args(tmp_path, fixtures)], input=case.input)
    finally:
        os.chdir(cwd)
    output = result.output
    assert result.exit_code == case.exit_code, output
    assert "Traceback" not in output, output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{case}: raised {result.exception!r}\n{output}")
    assert case.message in output, f"{case}: {case.message!r} not in\n{output}"
    after = _snapshot(guarded)
    for path, data in before.items():
        assert after.get(path) == data, f"{case}: {path} was changed or removed"
