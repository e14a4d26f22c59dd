"""Serve a local model over an OpenAI-compatible API with ``transformers serve``, image-only.

``transformers serve`` loads the checkpoint's processor with the public
``AutoProcessor.from_pretrained``, which needs torchvision for Qwen-VL models. Where torchvision
is missing, this launcher wraps that public entry point (in the server process only) so that it
builds the same processor class without its video part (``mmrl.model.processor``), then runs the
transformers CLI unchanged. transformers >= 5.25 loads the model in a spawned process, which
imports this module again as ``__mp_main__``: the wrap is applied there too. No private
transformers method is touched. Usage (needs
``pip install transformers[serving]``)::

    python -m mmrl.rollout.serve MODEL_DIR --host 127.0.0.1 --port 8000
"""
from __future__ import annotations

import sys

from mmrl.errors import ConfigError


def patch_processor_loading() -> None:
    """Make ``AutoProcessor.from_pretrained`` load image-only processors when torchvision is missing."""
    from transformers import AutoProcessor

    from mmrl.model.processor import image_only_class

    current = AutoProcessor.__dict__["from_pretrained"]
    if getattr(current, "_mmrl_image_only", False):
        return
    original = current.__func__

    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        hub = {k: kwargs[k] for k in ("revision", "trust_remote_code", "token", "cache_dir") if kwargs.get(k) is not None}
        image_only = None if args else image_only_class(str(pretrained_model_name_or_path), **hub)
        if image_only is None:
            return original(cls, pretrained_model_name_or_path, *args, **kwargs)
        return image_only.from_pretrained(pretrained_model_name_or_path, **kwargs)

    wrapped = classmethod(from_pretrained)
    wrapped._mmrl_image_only = True  # type: ignore[attr-defined]
    AutoProcessor.from_pretrained = wrapped


def transformers_cli():
    """The ``transformers`` CLI app (5.x), or a clear error naming what is needed."""
    try:
        from transformers.cli.transformers import app  # the app itself: no update check over the network
    except ImportError as e:
        import transformers

        raise ConfigError(
            f"python -m mmrl.rollout.serve needs transformers>=5 with the serving extra "
            f"(pip install 'transformers[serving]'); found transformers {transformers.__version__}: {e}"
        ) from None
    return app


def main(argv: list[str] | None = None) -> None:
    """Run ``transformers serve ARGS`` with image-only processor loading."""
    app = transformers_cli()
    patch_processor_loading()
    args = sys.argv[1:] if argv is None else argv
    app(["serve", *args], prog_name="transformers")


if __name__ == "__main__":
    main()
elif __name__ == "__mp_main__":  # the server's spawned model process (transformers >= 5.25)
    patch_processor_loading()
