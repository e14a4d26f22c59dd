"""Files written whole or not at all: a temporary file beside the target, renamed over it.

A write that fails part-way (the disk fills, the folder turns read-only) leaves the target as it
was and no temporary file behind, and ends in a DataError naming the target (exit 2) instead of
an OSError's traceback.
"""
from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from mmrl.errors import DataError


def cannot_write(path: str | os.PathLike, e: OSError) -> DataError:
    """The error for a write that failed: the path and the reason, disk full said as such."""
    reason = e.strerror or str(e)
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        reason += " (the disk is full: free space, or write somewhere else)"
    return DataError(str(path), None, f"cannot write: {reason}")


def write_atomic(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write`` on a binary file that becomes ``path`` only when it returns."""
    target = Path(path)
    tmp = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, target)
        tmp = None
    except OSError as e:
        raise cannot_write(target, e) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return target


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    return write_atomic(path, lambda f: f.write(data))
