"""Loading a vision-language processor on machines without torchvision.

transformers 5.x Qwen-VL processors take a video processor that needs torchvision, and PyPI's
torchvision is a CUDA build that does not import beside a CPU torch. mmrl handles images only, so
where torchvision is missing it loads the same processor class through a subclass whose
constructor has no ``video_processor`` argument (transformers derives a processor's parts from its
``__init__`` signature). Text, chat templates and image handling are unchanged; asking it for
video raises a clear error.
"""
from __future__ import annotations

import importlib.util
import json
import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError

log = logging.getLogger("mmrl")


def torchvision_available() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401
    except Exception:  # a CUDA torchvision beside a CPU torch fails at import, not at find_spec
        return False
    return True


@lru_cache(maxsize=None)
def image_only(processor_cls: type) -> type:
    """A subclass of ``processor_cls`` built from an image processor and a tokenizer only."""
    import inspect

    params = inspect.signature(processor_cls.__init__).parameters
    if "video_processor" not in params:
        return processor_cls

    class ImageOnlyProcessor(processor_cls):  # type: ignore[misc, valid-type]
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            kwargs.pop("video_processor", None)
            super().__init__(image_processor=image_processor, tokenizer=tokenizer, video_processor=None,
                             chat_template=chat_template, **kwargs)

        def _process_videos(self, *args, **kwargs):
            raise ConfigError("video inputs need torchvision, which is not installed; mmrl uses images only")

    # Saved configs must name the real class so that any loader can read them back.
    ImageOnlyProcessor.__name__ = processor_cls.__name__
    ImageOnlyProcessor.__qualname__ = processor_cls.__qualname__
    ImageOnlyProcessor.__doc__ = f"{processor_cls.__name__} without a video processor (no torchvision)."
    return ImageOnlyProcessor


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def processor_class_name(name_or_path: str, **hub_kwargs: Any) -> str | None:
    """The processor class a checkpoint declares, from its files or its model type."""
    local = Path(name_or_path)
    if local.is_dir():
        for fname in ("processor_config.json", "preprocessor_config.json", "tokenizer_config.json"):
            name = _read_json(local / fname).get("processor_class")
            if name:
                return name
    from transformers import AutoConfig
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    config = AutoConfig.from_pretrained(name_or_path, **hub_kwargs)
    return PROCESSOR_MAPPING_NAMES.get(config.model_type)


def image_only_class(name_or_path: str, **hub_kwargs: Any) -> type | None:
    """The checkpoint's processor class without its video part, or None where none is needed or known.

    None when torchvision imports (the stock class works) or the checkpoint names no processor
    class that transformers has; then ``AutoProcessor`` is the right loader.
    """
    import transformers

    if torchvision_available():
        return None
    cls_name = processor_class_name(name_or_path, **hub_kwargs)
    cls = getattr(transformers, cls_name, None) if cls_name else None
    return image_only(cls) if cls is not None else None


def load_processor(name_or_path: str, min_pixels: int | None = None, max_pixels: int | None = None,
                   **hub_kwargs: Any):
    """Load the checkpoint's processor (image-only when torchvision is unavailable).

    ``min_pixels``/``max_pixels`` bound the resized image area as Qwen-VL's image processor does.
    """
    import transformers

    cls = image_only_class(name_or_path, **hub_kwargs)
    if cls is None:
        processor = transformers.AutoProcessor.from_pretrained(name_or_path, **hub_kwargs)
    else:
        prev = logging.getLogger("transformers").level
        # The image processor falls back to its PIL backend without torchvision, and says so.
        transformers.utils.logging.set_verbosity_error()
        try:
            processor = cls.from_pretrained(name_or_path, **hub_kwargs)
        finally:
            transformers.utils.logging.set_verbosity(prev or logging.WARNING)
    set_pixel_bounds(processor, min_pixels, max_pixels)
    return processor


def set_pixel_bounds(processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """Apply Qwen-VL style pixel bounds to a processor's image processor, where it has them."""
    ip = getattr(processor, "image_processor", None)
    if ip is None or (min_pixels is None and max_pixels is None):
        return
    size = dict(getattr(ip, "size", None) or {})
    if min_pixels is not None:
        size["shortest_edge"] = int(min_pixels)
        if hasattr(ip, "min_pixels"):
            ip.min_pixels = int(min_pixels)
    if max_pixels is not None:
        size["longest_edge"] = int(max_pixels)
        if hasattr(ip, "max_pixels"):
            ip.max_pixels = int(max_pixels)
    ip.size = size


def image_factor(processor) -> int:
    """Side in pixels of one merged image token (patch size x merge size; 28 for Qwen-VL)."""
    ip = getattr(processor, "image_processor", None)
    patch = getattr(ip, "patch_size", 14) or 14
    merge = getattr(ip, "merge_size", 2) or 2
    return int(patch) * int(merge)


def pixel_bounds(processor) -> tuple[int, int]:
    """The (min_pixels, max_pixels) the processor resizes images into."""
    ip = getattr(processor, "image_processor", None)
    size = dict(getattr(ip, "size", None) or {})
    lo = size.get("shortest_edge") or getattr(ip, "min_pixels", None) or 56 * 56
    hi = size.get("longest_edge") or getattr(ip, "max_pixels", None) or 28 * 28 * 1280
    return int(lo), int(hi)
