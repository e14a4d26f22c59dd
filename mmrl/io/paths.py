"""The guard every command runs on its output paths before it opens anything.

An output that names an input would be emptied before the input is read (``mmrl rollout --data X
-o X`` used to turn X into an empty file and exit 0); an output that is a folder, or that cannot
be created, would fail after the work was done, with a traceback. ``check_outputs`` refuses all
of these at start-up with a ``ConfigError`` (exit status 2) that names the path and the option.

Paths are compared as files (``os.path.samefile``: symlinks and hard links count), so a link to
the input is refused too. No command reads its own output as an input by design (``--resume``
reads what the earlier run wrote, which is not one of the inputs), so there is no exception.
"""
from __future__ import annotations

import fnmatch
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from mmrl.errors import ConfigError
from mmrl.io.jsonl import STDIO

PathArg = Optional[Union[str, "os.PathLike[str]"]]
# {"--option": path} (the option names the path in messages) or a plain list of paths
Paths = Union[Mapping[str, PathArg], Iterable[PathArg]]


@dataclass(frozen=True)
class OutputFolder:
    """A folder a command writes into, and what it writes there.

    ``writes`` are the names (or ``fnmatch`` patterns) of the files and sub-folders the command
    creates, replaces or deletes directly inside the folder; an input found there would be lost.
    Anything else in the folder is left alone (``mmrl eval score B runs/x/rollouts.jsonl -o
    runs/x`` is fine).
    """

    path: Union[str, "os.PathLike[str]"]
    writes: Sequence[str] = ()
    label: str = "-o"


def _labelled(paths, default: str) -> list[tuple[str, str]]:
    items = paths.items() if isinstance(paths, Mapping) else ((default, p) for p in paths)
    return [(label, str(p)) for label, p in items if p is not None and str(p) != STDIO]


def _same(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


def _inside(path: str, folder: str) -> Path | None:
    """``path`` relative to ``folder`` when it lies inside it (links resolved), else None."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return None


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists() or parent.is_symlink():
            return parent
    return Path(".")


def _creatable(path: Path, folder: Path, label: str, what: str) -> None:
    """Refuse ``path`` when ``folder``, where it goes, cannot be created or written: a temporary
    file is tried in the nearest folder that exists (exact where permission bits are not: root,
    read-only or virtual file systems). Nothing is left behind; no folder is created."""
    anchor = _nearest_existing(folder)
    if not anchor.is_dir():
        raise ConfigError(f"{path}: {label}: cannot create {what} here: {anchor} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".mmrl-write-check-", dir=anchor)
    except OSError as e:
        raise ConfigError(f"{path}: {label}: cannot write in {anchor}: {e.strerror or e}") from None
    os.close(fd)
    os.unlink(probe)


def _check_file(label: str, out: str, inputs: list[tuple[str, str]]) -> None:
    path = Path(out)
    if path.is_dir():
        raise ConfigError(f"{out}: {label}: is a folder; give the path of a file to write")
    if path.exists():
        for in_label, src in inputs:
            if _same(out, src):
                raise ConfigError(f"{out}: {label} is the input file ({in_label} {src}); writing it would "
                                  "destroy the input before it is read: choose another output path")
        if not os.access(out, os.W_OK):
            raise ConfigError(f"{out}: {label}: the file is read-only")
    _creatable(path, path.parent, label, "the file")


def _check_folder(folder: OutputFolder, inputs: list[tuple[str, str]]) -> None:
    out, label = str(folder.path), folder.label
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{out}: {label}: is a file; give a folder to write into")
    if path.exists():
        for in_label, src in inputs:
            if os.path.isdir(src) and _same(out, src):
                raise ConfigError(f"{out}: {label} is the input folder ({in_label} {src}); the run would "
                                  "overwrite its own input: choose another output folder")
            rel = _inside(src, out)
            if rel is not None and rel.parts and any(fnmatch.fnmatch(rel.parts[0], w) for w in folder.writes):
                raise ConfigError(f"{src}: {in_label} is inside the output folder {label} {out}, where this "
                                  f"command writes {rel.parts[0]}; it would be overwritten: choose another "
                                  "output folder (or move the input)")
    _creatable(path, path, label, "the folder")


def check_outputs(outputs: Paths = (), inputs: Paths = (), *, folders: Iterable[OutputFolder] = ()) -> None:
    """Refuse, before anything is opened, outputs that would destroy an input or cannot be written.

    ``outputs``: files the command writes, as ``{"-o": path, "--metrics": path}`` (labels name
    the options in messages) or a plain list; ``None`` and ``-`` (stdout) are skipped.
    ``inputs``: files or folders it reads, the same way (``-``, ``None`` and paths that do not
    exist are skipped: the reader reports those). ``folders``: output folders, with what the
    command writes inside them.

    Refused (ConfigError, exit 2, naming the path): an output file that is an input (also through
    a link), is an existing folder, is read-only, or whose folder cannot be created or written;
    two outputs that are the same file; an output folder that is an existing file, is an input
    folder, cannot be written, or would overwrite an input inside it.
    """
    ins = [(label, p) for label, p in _labelled(inputs, "input") if os.path.exists(p)]
    outs = _labelled(outputs, "output")
    for i, (label, out) in enumerate(outs):
        for other_label, other in outs[:i]:
            if _same(out, other):
                raise ConfigError(f"{out}: given as both {other_label} and {label}; each output needs its own path")
        _check_file(label, out, ins)
    for folder in folders:
        _check_folder(folder, ins)


def refuse_terminal(out: PathArg, label: str, what: str) -> None:
    """Refuse ``-`` (stdout) for binary output when stdout is a terminal: it would fill the screen
    with bytes; a pipe or a file is fine."""
    import sys

    if out is not None and str(out) == STDIO and sys.stdout.isatty():
        raise ConfigError(f"{label} -: stdout is a terminal, which cannot show {what}; pipe it into a program "
                          "or give a file path")


# The list of what a command wrote directly in an output folder, written there by the command
# before it writes anything else: --overwrite removes what it names and nothing more.
MANIFEST = ".mmrl-outputs.json"


def claim_output_folder(out: PathArg, writes: Sequence[str], overwrite: bool, *, label: str = "--out",
                        command: str = "mmrl") -> Path:
    """Make ``out`` the output folder of a run that writes ``writes`` (names or ``fnmatch``
    patterns) directly inside it, and record them in the folder's manifest (``MANIFEST``).

    A folder that does not exist or is empty is created or used as it is. A folder that holds
    anything needs ``overwrite``; then the entries the earlier run's manifest names are removed
    (links removed, never followed), and only if the folder holds nothing else: a file mmrl did
    not write there is never deleted, the run is refused (ConfigError, exit 2) naming it. A folder
    without a manifest (written before manifests existed) may hold only ``writes``' names. The
    folder itself is never removed (``--out .`` is safe).
    """
    if out is None or not str(out).strip():
        raise ConfigError(f"{label}: an empty path names no folder; give the folder to write into")
    root = Path(out)
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: {label}: is a file; give a folder to write into")
    _creatable(root, root, label, "the folder")
    entries = sorted(p.name for p in root.iterdir() if p.name != MANIFEST) if root.is_dir() else []
    if entries:
        if not overwrite:
            raise ConfigError(f"{root} is not empty; pass --overwrite to replace what an earlier {command} wrote "
                              f"there, or choose another {label}")
        previous = read_manifest(root)
        if previous is None:  # a folder of a version before manifests: only this run's own names
            previous = list(writes)
        foreign = [name for name in entries if not _listed(name, previous)]
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ConfigError(f"{root}: {label} holds {shown}, which mmrl did not write there; --overwrite removes "
                              f"only what an earlier run wrote (listed in {MANIFEST}): move them, or choose another "
                              "folder")
        for name in entries:
            _remove(root / name)
    root.mkdir(parents=True, exist_ok=True)
    from mmrl.io.atomic import write_bytes_atomic

    body = {"written_by": command, "entries": list(writes)}
    write_bytes_atomic(root / MANIFEST, (json.dumps(body, indent=1) + "\n").encode("utf-8"))
    return root


def read_manifest(root: Path) -> list[str] | None:
    """The names an earlier run recorded in ``root``'s manifest; None when there is none (or it is
    not one: a manifest that names a path rather than a plain name is not trusted)."""
    try:
        body = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    names = body.get("entries") if isinstance(body, dict) else None
    if not isinstance(names, list) or not all(_plain_name(n) for n in names):
        return None
    return names


def _plain_name(name: object) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _listed(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _remove(path: Path) -> None:
    import shutil

    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError as e:
        raise ConfigError(f"{path}: cannot remove it for --overwrite: {e.strerror or e}") from None


def check_readable(folder: Path) -> None:
    """Refuse a folder (a model) holding a file this process may not read, naming the file: the
    libraries that read it later report a permission problem as a missing file."""
    for f in sorted(folder.iterdir()):
        if f.is_file() and not os.access(f, os.R_OK):
            raise ConfigError(f"{f}: cannot read it: permission denied (check the file's owner and mode)")
