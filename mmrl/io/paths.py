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
