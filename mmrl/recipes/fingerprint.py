"""Fingerprints: what a finished stage is recorded with, so an unchanged stage is not run again.

A stage's fingerprint hashes its command, the settings it was given and its inputs; an input is
an earlier stage's output (then that stage's fingerprint stands for it) or a file or folder
from outside the run (its bytes; for a folder, every file's name, size and modification time).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def path_digest(path: str | Path) -> str:
    """A file's bytes, or a folder's listing (name, size, mtime of each file); '-' and hub
    names (no such path) by their text."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_file():
        with open(p, "rb") as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    elif p.is_dir():
        for item in sorted(p.rglob("*")):
            if item.is_file():
                st = item.stat()
                h.update(f"{item.relative_to(p)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    else:
        h.update(f"name:{path}".encode())
    return h.hexdigest()[:16]


def stage_fingerprint(command: tuple[str, ...], settings: Mapping[str, Any], invocations: list[list[str]],
                      inputs: Mapping[str, str]) -> str:
    """``inputs``: each input path in the arguments -> its digest (or the producing stage's fingerprint)."""
    return digest({"command": list(command), "settings": dict(settings), "args": invocations,
                   "inputs": dict(sorted(inputs.items()))})
