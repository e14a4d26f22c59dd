"""Model loading in one place: any Hugging Face image-text-to-text model, by name or folder.

Every subcommand (rollout, warmup-sft, grpo, eval) loads through ``load_model``/``load``, so
dtype and device choice, LoRA, frozen vision towers and the no-torchvision processor behave the
same everywhere. A real hub name (``Qwen/Qwen2.5-VL-7B-Instruct``) and a local folder written
by ``mmrl model init-tiny`` or ``mmrl warmup-sft`` take the same path.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError
from mmrl.io.paths import check_readable
from mmrl.model.processor import load_processor
from mmrl.settings import COUNT, POSITIVE, SHARE, section, setting

log = logging.getLogger("mmrl")

DTYPES = ("auto", "float32", "bfloat16", "float16")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")

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

    r: int = setting(16, flag="--lora-r", bound=COUNT, help="LoRA rank.")
    alpha: float = setting(32, flag="--lora-alpha", bound=POSITIVE, help="LoRA alpha.")
    # 0, as peft and verl: dropout makes the policy's own log-probs differ between the frozen pass
    # (eval mode) and the update (train mode), which RL's ratio reads as a policy change.
    dropout: float = setting(0.0, flag="--lora-dropout", bound=SHARE, help="LoRA dropout.")
    target_modules: str | list[str] = setting("all-linear", flag="--lora-targets",
                                              help="all-linear or module names, e.g. q_proj,v_proj.")
    merge: bool = setting(True, flag="--merge-lora", off_flag="--no-merge-lora",
                          help="Save the final model with the adapters merged in (else the adapter alone).")

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

    name_or_path: str = setting(flag="--model", help="Hub name or folder of an image-text-to-text model.")
    dtype: str = setting("auto", choices=DTYPES, help="Weights dtype.")
    device: str = setting("auto", help="auto, cpu, mps, cuda or cuda:N.")
    attn_implementation: str | None = setting(None, help="sdpa, eager or flash_attention_2 (default: the model's).")
    lora: LoraSpec | None = section(LoraSpec, help="LoRA adapters", switch="lora",
                                    switch_help="Train LoRA adapters instead of all weights; the RL reference is "
                                                "the base model with adapters off.")
    freeze_vision: bool = setting(False, help="Freeze the vision tower (not the projector).")
    freeze_projector: bool = setting(False, help="Freeze the vision-language projector.")
    min_pixels: int | None = setting(None, bound=COUNT, help="Smallest image area after resizing.")
    max_pixels: int | None = setting(None, bound=COUNT, help="Largest image area after resizing.")
    trust_remote_code: bool = setting(False, cli=False, help="Run the model repository's own code.")
    revision: str | None = setting(None, cli=False, help="Hub revision.")
    hub_kwargs: dict[str, Any] = setting(default_factory=dict, cli=False, help="Extra from_pretrained arguments.")

    def check(self) -> None:
        if self.min_pixels is not None and self.max_pixels is not None and self.min_pixels > self.max_pixels:
            raise ConfigError(f"--min-pixels ({self.min_pixels}) exceeds --max-pixels ({self.max_pixels})")
        if not _DEVICE.match(self.device):
            raise ConfigError(f"--device must be auto, cpu, mps, cuda or cuda:N, got {self.device!r}")

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


def _first_line(e: BaseException) -> str:
    """The gist of a loader's error (some span pages); JSON errors keep their position."""
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _check_exists(name_or_path: str) -> None:
    looks_local = name_or_path.startswith((".", "/", "~")) or Path(name_or_path).exists()
    if looks_local and not Path(name_or_path).expanduser().is_dir():
        raise ConfigError(f"model folder not found: {name_or_path}")
    if looks_local:
        check_readable(Path(name_or_path).expanduser())


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
    except Exception:  # noqa: BLE001  (a broken folder: the loader below reports it, as before)
        return AutoModelForImageTextToText
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
    from safetensors import SafetensorError

    try:
        model = model_class(spec).from_pretrained(spec.name_or_path, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError, SafetensorError) as e:  # no/broken config.json, truncated weights
        raise ConfigError(f"cannot load model {spec.name_or_path!r}: {_first_line(e)}") from None
    model.to(device)
    if spec.freeze_vision or spec.freeze_projector:
        freeze_vision(model, tower=spec.freeze_vision, projector=spec.freeze_projector)
    if spec.lora is not None:
        from peft import get_peft_model

        try:
            model = get_peft_model(model, spec.lora.peft_config())
        except ValueError as e:  # peft: "Target modules {...} not found in the base model"
            raise ConfigError(f"--lora-targets {spec.lora.target_modules}: {e}") from None
    return model


def load(spec: ModelSpec | str) -> LoadedModel:
    """Load model and processor together."""
    if isinstance(spec, str):
        spec = ModelSpec(spec)
    _check_exists(spec.name_or_path)
    try:
        processor = load_processor(spec.name_or_path, spec.min_pixels, spec.max_pixels, **spec.hub())
    except (OSError, ValueError, KeyError) as e:
        raise ConfigError(f"cannot load the processor of {spec.name_or_path!r}: {_first_line(e)}") from None
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


def enable_checkpointing(model) -> None:
    """Recompute activations in backward (transformers 5 calls it activation checkpointing)."""
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
