"""Images for samples: loading from paths, data URIs and URLs, and Qwen-VL resizing.

Image references are untrusted input: decoding is bounded (Pillow's decompression-bomb guard
stays on) and every failure becomes a DataError naming the reference.
"""
from __future__ import annotations

import base64
import binascii
import io
import math
import os
from pathlib import Path

from PIL import Image

from mmrl.errors import MmrlError

URL_TIMEOUT_S = 20.0


class ImageError(MmrlError):
    """An image reference that cannot be turned into pixels."""


def load_image(ref: str, base_dir: str | os.PathLike | None = None) -> Image.Image:
    """Open an image given as a path (relative to ``base_dir``), a ``data:`` URI or an http(s) URL."""
    if isinstance(ref, str) and ref.startswith(("http://", "https://")):
        return _open(io.BytesIO(_fetch(ref)), ref)
    return _open(*_local_source(ref, base_dir))


def check_image(ref: str, base_dir: str | os.PathLike | None = None, decode: bool = False) -> None:
    """Raise an ImageError unless a path or data URI holds an image a model can take.

    ``decode=False`` opens the file and checks its structure (``Image.verify``: the header, and for
    PNG every chunk's checksum) without decoding the pixels, which is fast enough to check every
    image of a data set before a run starts; ``decode=True`` decodes every pixel. Either way the
    size must pass the resize rule (no empty image, aspect ratio below 200). URLs are not fetched.
    """
    if isinstance(ref, str) and ref.startswith(("http://", "https://")):
        return
    if not decode:
        src, name = _local_source(ref, base_dir)
        try:
            with Image.open(src) as img:
                size = img.size
                img.verify()
        except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as e:
            raise ImageError(f"cannot decode image {name}: {e}") from None
    else:
        size = load_image(ref, base_dir).size
    smart_resize(size[1], size[0])


def _local_source(ref: str, base_dir: str | os.PathLike | None):
    """A non-URL reference as (something ``Image.open`` reads, its name for messages)."""
    if not isinstance(ref, str) or not ref:
        raise ImageError(f"image reference must be a non-empty string, got {ref!r}")
    if ref.startswith("data:"):
        return io.BytesIO(decode_data_uri(ref)), "data URI"
    path = Path(ref)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.is_file():
        raise ImageError(f"image file not found: {path}")
    return path, str(path)


def _open(src, name: str) -> Image.Image:
    try:
        img = Image.open(src)
        img.load()
    except (OSError, Image.DecompressionBombError, SyntaxError, ValueError) as e:
        raise ImageError(f"cannot decode image {name}: {e}") from None
    return img.convert("RGB") if img.mode != "RGB" else img


def decode_data_uri(uri: str) -> bytes:
    header, sep, payload = uri.partition(",")
    if not sep or ";base64" not in header:
        raise ImageError("data URI must be of the form data:image/...;base64,<data>")
    try:
        return base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as e:
        raise ImageError(f"data URI is not valid base64: {e}") from None


def _fetch(url: str) -> bytes:
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("MMRL_OFFLINE") == "1":
        raise ImageError(f"cannot fetch {url}: offline mode (HF_HUB_OFFLINE/MMRL_OFFLINE) is set")
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_S) as resp:  # noqa: S310 (http(s) only)
            return resp.read()
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        raise ImageError(f"cannot fetch {url}: {e} (no network? use a local copy of the image)") from None


def to_data_uri(img: Image.Image, fmt: str = "PNG") -> str:
    """Encode an image as a data URI (for OpenAI-compatible endpoints and portable JSONL)."""
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    mime = "jpeg" if fmt.upper() in ("JPG", "JPEG") else fmt.lower()
    return f"data:image/{mime};base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def smart_resize(height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56,
                 max_pixels: int = 28 * 28 * 1280, max_ratio: float = 200.0) -> tuple[int, int]:
    """Qwen-VL's resize rule: both sides multiples of ``factor``, area within the pixel bounds,
    aspect ratio kept as closely as that allows."""
    if height <= 0 or width <= 0:
        raise ImageError(f"image has no pixels ({width}x{height})")
    if max(height, width) / min(height, width) > max_ratio:
        raise ImageError(f"aspect ratio must be below {max_ratio:g}, got {max(height, width) / min(height, width):.1f}")
    h = round(height / factor) * factor
    w = round(width / factor) * factor
    if h * w > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h = max(factor, math.floor(height / beta / factor) * factor)
        w = max(factor, math.floor(width / beta / factor) * factor)
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = math.ceil(height * beta / factor) * factor
        w = math.ceil(width * beta / factor) * factor
    return h, w


def fit_image(img: Image.Image, min_pixels: int, max_pixels: int, factor: int = 28) -> Image.Image:
    """Resize an image as the model's processor will (so token counts are known in advance)."""
    h, w = smart_resize(img.height, img.width, factor, min_pixels, max_pixels)
    if (h, w) == (img.height, img.width):
        return img
    return img.resize((w, h), Image.BICUBIC)


def image_tokens(img: Image.Image, min_pixels: int, max_pixels: int, factor: int = 28) -> int:
    """Number of image tokens a Qwen-VL model spends on this image after resizing."""
    h, w = smart_resize(img.height, img.width, factor, min_pixels, max_pixels)
    return (h // factor) * (w // factor)
