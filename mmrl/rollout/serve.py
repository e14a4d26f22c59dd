"""Serve a local model over an OpenAI-compatible API with ``transformers serve``, image-only.

``transformers serve`` loads the checkpoint's processor with ``AutoProcessor``, which needs
torchvision for Qwen-VL models; this launcher swaps in mmrl's image-only processor loader inside
the server process first, then runs the transformers CLI unchanged. Usage (needs
``pip install transformers[serving]``)::

    python -m mmrl.rollout.serve MODEL_DIR --host 127.0.0.1 --port 8000
"""
from __future__ import annotations

import sys


def patch_processor_loading() -> None:
    """Make ``transformers serve`` load processors through ``mmrl.model.processor.load_processor``."""
    from transformers.cli.serving.model_manager import ModelManager

    from mmrl.model.processor import load_processor

    if getattr(ModelManager._load_processor, "_mmrl_patched", False):
        return
    original = ModelManager._load_processor

    def _load_processor(self, model_id_and_revision: str, gguf_file: str | None = None):
        if gguf_file is not None:
            return original(self, model_id_and_revision, gguf_file)
        model_id, revision = model_id_and_revision.split("@", 1)
        kwargs = {"trust_remote_code": self.trust_remote_code}
        if revision and revision != "main":
            kwargs["revision"] = revision
        return load_processor(model_id, **kwargs)

    _load_processor._mmrl_patched = True  # type: ignore[attr-defined]
    ModelManager._load_processor = _load_processor


def main(argv: list[str] | None = None) -> None:
    """Run ``transformers serve ARGS`` with the image-only processor patch applied."""
    patch_processor_loading()
    from transformers.cli.transformers import app  # the CLI app itself: no update check over the network

    args = sys.argv[1:] if argv is None else argv
    app(["serve", *args], prog_name="transformers")


if __name__ == "__main__":
    main()
