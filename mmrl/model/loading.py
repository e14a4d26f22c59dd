"""Model loading in one place: any Hugging Face image-text-to-text model, by name or folder.

Every subcommand (rollout, warmup-sft, grpo, eval) loads through ``load_model``/``load``, so
dtype and device choice, LoRA, frozen vision towers and the no-torchvision processor behave the
same everywhere. A real hub name (``Qwen/Qwen2.5-VL-7B-Instruct``) and a local folder written
by ``mmrl model init-tiny`` or ``mmrl warmup-sft`` take the same path.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.processor import load_processor

log = logging.getLogger("mmrl")

DTYPES = ("auto", "float32", "bfloat16", "float16")

# What ``save_pretrained`` of a model and its processor writes in a folder (names or patterns).
CHECKPOINT_FILES = ("config.json", "generation_config.json", "*.safetensors", "*.safetensors.index.json",
                    "pytorch_model*.bin", "adapter_config.json", "tokenizer*", "special_tokens_map.json",
                    "added_tokens.json", "vocab.json", "merges.txt", "chat_template.*", "*processor_config.json")

# Attribute names under which image-text-to-text models keep their vision tower and projector.
VISION_TOWER_NAMES = ("visual", "vision_tower", "vision_model", "vision_encoder")
PROJECTOR_NAMES = ("merger", "multi_modal_projector", "mm_projector", "connector", "aligner")


@dataclass
class LoraSpec:
    """LoRA adapters (peft). ``target_modules="all-linear"`` covers every linear layer of the LM."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str | list[str] = "all-linear"

    @classmethod
    def from_settings(cls, settings) -> LoraSpec | None:
        """From a trainer's flags (``lora``, ``lora_r``, ``lora_alpha``, ``lora_dropout``,
        ``lora_targets``); None when ``--lora`` is off."""
        if not settings.lora:
            return None
        return cls(r=settings.lora_r, alpha=settings.lora_alpha, dropout=settings.lora_dropout,
                   target_modules=settings.lora_targets)

    def peft_config(self):
        from peft import LoraConfig

        targets = self.target_modules
        if isinstance(targets, str) and targets != "all-linear":
            targets = [t.strip() for t in targets.split(",") if t.strip()]
        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout, target_modules=targets,
                          task_type="CAUSAL_LM")


@dataclass
class ModelSpec:
    """How to load a model; the same fields as the command-line flags of every subcommand."""

    name_or_path: str
    dtype: str = "auto"
    device: str = "auto"
    attn_implementation: str | None = None
    lora: LoraSpec | None = None
    freeze_vision: bool = False
    freeze_projector: bool = False
    min_pixels: int | None = None
    max_pixels: int | None = None
    trust_remote_code: bool = False
    revision: str | None = None
    hub_kwargs: dict[str, Any] = field(default_factory=dict)

    def hub(self) -> dict[str, Any]:
        kw = dict(self.hub_kwargs)
        if self.revision:
            kw["revision"] = self.revision
        if self.trust_remote_code:
            kw["trust_remote_code"] = True
        return kw


@dataclass
class LoadedModel:
    model: Any
    processor: Any
    spec: ModelSpec

    @property
    def tokenizer(self):
        return getattr(self.processor, "tokenizer", self.processor)

    @property
    def device(self):
        return next(self.model.parameters()).device


def quiet_accelerator_probe() -> None:
    """On a machine without CUDA, tell DeepSpeed (imported by transformers/accelerate when
    installed) that the accelerator is the CPU, instead of letting it warn on every command."""
    import os

    import torch

    if not torch.cuda.is_available():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")


def resolve_device(device: str = "auto") -> str:
    import torch

    if device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} asked for, but no CUDA device is available")
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_dtype(dtype: str, device: str):
    import torch

    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
    if dtype == "auto":
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return getattr(torch, dtype)


def _check_exists(name_or_path: str) -> None:
    looks_local = name_or_path.startswith((".", "/", "~")) or Path(name_or_path).exists()
    if looks_local and not Path(name_or_path).expanduser().is_dir():
        raise ConfigError(f"model folder not found: {name_or_path}")


def model_class(spec: ModelSpec):
    """``AutoModelForImageTextToText`` for a vision-language checkpoint, ``AutoModelForCausalLM``
    for a text-only one (its prompts then carry no images)."""
    import json

    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForImageTextToText

    name = spec.name_or_path
    adapter = Path(name).expanduser() / "adapter_config.json"  # a LoRA adapter folder: its base decides
    if adapter.is_file():
        try:
            name = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path") or name
        except (OSError, ValueError):
            pass
    try:
        config = AutoConfig.from_pretrained(name, **spec.hub())
    except (OSError, ValueError):
        return AutoModelForImageTextToText  # its own loading reports what is wrong, as before
    if type(config) in AutoModelForImageTextToText._model_mapping:
        return AutoModelForImageTextToText
    return AutoModelForCausalLM


def load_model(spec: ModelSpec):
    """Load the model of a spec on its device and dtype, with LoRA and freezing applied."""
    from transformers.utils import logging as hf_logging

    from mmrl.versions import check_versions

    check_versions()  # a clear message, not a traceback inside transformers, on an unsupported install
    hf_logging.disable_progress_bar()  # mmrl shows its own progress; keep stderr readable
    quiet_accelerator_probe()
    _check_exists(spec.name_or_path)
    device = resolve_device(spec.device)
    dtype = resolve_dtype(spec.dtype, device)
    kwargs: dict[str, Any] = {"dtype": dtype, **spec.hub()}
    if spec.attn_implementation:
        kwargs["attn_implementation"] = spec.attn_implementation
    try:
        model = model_class(spec).from_pretrained(spec.name_or_path, **kwargs)
    except OSError as e:
        raise ConfigError(f"cannot load model {spec.name_or_path!r}: {e}") from None
    model.to(device)
    if spec.freeze_vision or spec.freeze_projector:
        freeze_vision(model, tower=spec.freeze_vision, projector=spec.freeze_projector)
    if spec.lora is not None:
        from peft import get_peft_model

        model = get_peft_model(model, spec.lora.peft_config())
    return model


def load(spec: ModelSpec | str) -> LoadedModel:
    """Load model and processor together."""
    if isinstance(spec, str):
        spec = ModelSpec(spec)
    _check_exists(spec.name_or_path)
    try:
        processor = load_processor(spec.name_or_path, spec.min_pixels, spec.max_pixels, **spec.hub())
    except OSError as e:
        raise ConfigError(f"cannot load the processor of {spec.name_or_path!r}: {e}") from None
    return LoadedModel(load_model(spec), processor, spec)


def _find_child(module, names: tuple[str, ...]):
    """The first sub-module whose attribute name is one of ``names`` (searching breadth-first)."""
    queue = [module]
    while queue:
        m = queue.pop(0)
        for name in names:
            child = getattr(m, name, None)
            if child is not None and hasattr(child, "parameters"):
                return child
        queue.extend(m.children())
    return None


def find_vision_tower(model):
    tower = _find_child(model, VISION_TOWER_NAMES)
    if tower is None:
        raise ConfigError(f"{type(model).__name__} has no vision tower under any of {VISION_TOWER_NAMES}")
    return tower


def find_projector(model):
    """The vision-language connector: inside the tower for Qwen-VL (``visual.merger``), else beside it."""
    found = _find_child(find_vision_tower(model), PROJECTOR_NAMES) or _find_child(model, PROJECTOR_NAMES)
    if found is None:
        raise ConfigError(f"{type(model).__name__} has no projector under any of {PROJECTOR_NAMES}")
    return found


def freeze_vision(model, tower: bool = True, projector: bool = False) -> None:
    """Freeze the vision tower and/or the projector (LLaMA-Factory's ``freeze_vision_tower``).

    Freezing the tower leaves the projector trainable, even where it lives inside the tower
    (Qwen-VL's ``visual.merger``), unless ``projector`` is set too.
    """
    proj = find_projector(model)
    proj_params = {id(p) for p in proj.parameters()}
    if tower:
        for p in find_vision_tower(model).parameters():
            if id(p) not in proj_params:
                p.requires_grad_(False)
    if projector:
        for p in proj.parameters():
            p.requires_grad_(False)
