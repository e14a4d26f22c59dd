"""What a record refers to, checked before any work: its images.

The structural checks of ``mmrl.io.schema`` say a record is well formed; these say that a later
stage will be able to use it: every image opens (``verify``) or decodes to pixels (``decode``,
what ``mmrl data validate`` does). So a command refuses at start-up what a later stage would
refuse after the GPU hours were spent. The reward spec's checks belong to the rewards package
(``mmrl.rewards.spec``); a command passes them in as ``checks`` (the I/O layer knows no verifier).
"""
from __future__ import annotations

import functools
import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mmrl.errors import MmrlError

MODES = ("verify", "decode")


CACHED_VERDICTS = 8192


def _check(ref: str, base_dir: str | None, decode: bool) -> str | None:
    from mmrl.images import check_image

    try:
        check_image(ref, base_dir, decode=decode)
    except MmrlError as e:
        return str(e)
    return None


@functools.lru_cache(maxsize=CACHED_VERDICTS)
def _file_problem(ref: str, base_dir: str | None, decode: bool, stamp: tuple[int, int] | None) -> str | None:
    return _check(ref, base_dir, decode)


_uri_verdicts: OrderedDict[tuple[bytes, bool], str | None] = OrderedDict()


def _uri_problem(uri: str, decode: bool) -> str | None:
    """The verdict on a data URI, remembered by a digest of it: a data set that embeds its images
    repeats them often, and keeping the URIs themselves as cache keys would hold thousands of
    images in memory."""
    key = (hashlib.blake2b(uri.encode("ascii", "replace"), digest_size=16).digest(), decode)
    if key in _uri_verdicts:
        _uri_verdicts.move_to_end(key)
        return _uri_verdicts[key]
    verdict = _uri_verdicts[key] = _check(uri, None, decode)
    if len(_uri_verdicts) > CACHED_VERDICTS:
        _uri_verdicts.popitem(last=False)
    return verdict


def _image_problem(ref: str, base_dir: str | None, decode: bool, stamp: tuple[int, int] | None) -> str | None:
    if ref.startswith("data:"):
        return _uri_problem(ref, decode)
    return _file_problem(ref, base_dir, decode, stamp)


def _stamp(ref: str, base_dir: Path | None) -> tuple[int, int] | None:
    """A file's (mtime, size), so a cached verdict is dropped when the file changes."""
    if ref.startswith("data:"):
        return None
    path = Path(ref) if base_dir is None or os.path.isabs(ref) else base_dir / ref
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def image_problems(record: dict[str, Any], base_dir: Path | None, mode: str) -> list[tuple[str, str]]:
    """(field, reason) for every image of a record that does not open; references that are
    malformed or missing are left to the structural check, which reports them."""
    from mmrl.io.schema import check_image_ref

    imgs = record.get("images")
    if not isinstance(imgs, list):
        return []
    out = []
    for i, ref in enumerate(imgs):
        if check_image_ref(ref, base_dir) is not None:
            continue
        why = _image_problem(ref, None if base_dir is None else str(base_dir), mode == "decode",
                             _stamp(ref, base_dir))
        if why:
            out.append((f"images[{i}]", why))
    return out


def reference_problems(record: dict[str, Any], base_dir: Path | None, mode: str = "verify") -> list[tuple[str, str]]:
    """Every (field, reason) of what a record refers to; ``mode`` is ``verify`` or ``decode``."""
    if mode not in MODES:
        raise ValueError(f"unknown reference check {mode!r}; expected one of {MODES}")
    return image_problems(record, base_dir, mode)
