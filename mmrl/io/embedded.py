"""Images held in rows as data, in and out: ``Image`` structs to references, ``data:`` URIs to files.

In: a Parquet file or saved dataset keeps an image as the ``Image`` feature stores it, a struct
``{"bytes": ..., "path": ...}`` (or a plain path string). ``image_refs`` turns each into the string
reference every command reads: bytes into a ``data:image/...;base64,`` URI, a path into an
absolute path (a relative one resolves against the source's folder). Nothing is decoded.

Out: ``ImageFiles`` writes image bytes once under ``OUT/images/`` beside an output, named by their
content, and returns the reference relative to ``OUT``: how rollout passes embedded images on to
a file (see docs/data-format.md) and how eval materialises a benchmark's images.
"""
from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

from mmrl.errors import FieldError
from mmrl.io.atomic import write_bytes_atomic

IMAGES_DIR = "images"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF87a", "image/gif"),
          (b"GIF89a", "image/gif"), (b"BM", "image/bmp"), (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))
_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/bmp": ".bmp",
               "image/tiff": ".tif", "image/webp": ".webp"}


def is_inline(ref: Any) -> bool:
    return isinstance(ref, str) and ref.startswith(("data:", "http://", "https://"))


def mime_type(data: bytes, name: str | None = None) -> str:
    """The image type of some bytes, from their signature (else from ``name``'s extension)."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    guessed = mimetypes.guess_type(name or "")[0]
    return guessed if guessed and guessed.startswith("image/") else "application/octet-stream"


def data_uri(data: bytes, name: str | None = None) -> str:
    return f"data:{mime_type(data, name)};base64," + base64.b64encode(data).decode("ascii")


def path_ref(ref: str, base_dir: Path | None) -> str:
    """A path as an absolute path (relative ones resolve against ``base_dir``); URIs unchanged."""
    if is_inline(ref) or not ref:
        return ref
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return str(path)


def image_ref(value: Any, base_dir: Path | None, field: str) -> str:
    """One stored image as a reference: struct bytes as a data URI, a path made absolute."""
    if isinstance(value, str):
        return path_ref(value, base_dir)
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data:
            if not isinstance(data, (bytes, bytearray)):
                raise FieldError(field, f"image bytes must be binary, got {type(data).__name__}")
            return data_uri(bytes(data), path if isinstance(path, str) else None)
        if isinstance(path, str) and path:
            return path_ref(path, base_dir)
        raise FieldError(field, "image struct has neither bytes nor path")
    if isinstance(value, (bytes, bytearray)):
        return data_uri(bytes(value))
    raise FieldError(field, f"an image must be a path, a data URI or an Image struct {{bytes, path}}, "
                            f"got {'null' if value is None else type(value).__name__}")


def image_refs(values: Any, base_dir: Path | None) -> list[str]:
    """The ``images`` of a Parquet or dataset row (a list, or one image) as references."""
    items = values if isinstance(values, (list, tuple)) else [values]
    return [image_ref(v, base_dir, f"images[{i}]") for i, v in enumerate(items)]


def uri_bytes(uri: str) -> tuple[bytes, str]:
    """The bytes of a base64 data URI and the file extension its type calls for."""
    from mmrl.images import decode_data_uri

    mime = uri[5:uri.index(";")] if ";" in uri[:100] else ""
    return decode_data_uri(uri), _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime) or ".img"


class ImageFiles:
    """Image bytes written once under ``out_dir/images/``; references relative to ``out_dir``.

    A file is named by a hash of its bytes (after ``stem``, when given), so the same image is
    written once however many records carry it, and a resumed run finds it already there.
    """

    def __init__(self, out_dir: Path, cache: int = 256):
        self.out_dir = Path(out_dir)
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._cache = cache

    def write(self, data: bytes, stem: str = "", suffix: str = ".png") -> str:
        digest = hashlib.sha1(data).hexdigest()
        name = (f"{_SAFE.sub('_', stem)}_{digest[:10]}" if stem else digest[:20]) + (suffix or ".png")
        target = self.out_dir / IMAGES_DIR / name
        if not target.exists():
            write_bytes_atomic(target, data)
        return f"{IMAGES_DIR}/{name}"

    def from_uri(self, uri: str) -> str:
        """The file reference of a data URI (the last few are remembered: draws share images)."""
        ref = self._recent.get(uri)
        if ref is None:
            ref = self.write(*uri_bytes(uri))
            self._recent[uri] = ref
            if len(self._recent) > self._cache:
                self._recent.popitem(last=False)
        return ref

    def externalize(self, record: dict[str, Any]) -> dict[str, Any]:
        """The record with the data URIs of its ``images`` written to files."""
        images = record.get("images")
        if not isinstance(images, list) or not any(isinstance(r, str) and r.startswith("data:") for r in images):
            return record
        return {**record, "images": [self.from_uri(r) if isinstance(r, str) and r.startswith("data:") else r
                                     for r in images]}
