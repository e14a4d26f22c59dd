"""One SPEC.md sample -> one training example whose labels are the assistant tokens only.

The prompt is built by ``mmrl.prompting.sample_messages`` (the same function rollout and eval
use) and rendered by the checkpoint's own chat template. Which characters belong to an
assistant turn is found by rendering the conversation up to each assistant turn: the text the
turn adds after the generation prompt (its content and end-of-turn token) is trained, everything
else -- system, user turns, images, the template's role headers, separators -- is masked with
-100. Multi-turn conversations train every assistant turn. The processor then expands each image
placeholder into the image's tokens; the mask follows that expansion token by token.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError, MmrlError
from mmrl.images import load_image
from mmrl.prompting import sample_messages

IGNORE_INDEX = -100

Example = dict[str, Any]


class ExampleError(ValueError):
    """A sample that cannot become a training example; ``field`` names the culprit."""

    def __init__(self, reason: str, field: str | None = None):
        super().__init__(reason)
        self.reason, self.field = reason, field


class TooLong(ExampleError):
    """An example longer than ``max_length`` (what happens next is the truncation policy's call)."""


def target_field(sample: dict[str, Any]) -> str:
    return "messages" if "messages" in sample else "response"


def instruction_for(sample: dict[str, Any], cfg) -> str | None:
    """The format instruction rollout would give this sample with the same prompt settings."""
    return cfg.prompt.instruction_for(str(sample.get("id", "")))


def messages_of(sample: dict[str, Any], cfg) -> list[dict[str, Any]]:
    """The chat of a sample, with the reference response as the (last) assistant turn.

    The prompt is the one ``mmrl rollout`` builds with the same ``--system``, ``--instruction``
    and ``--cot-pool``, so the model learns the format on exactly the prompts it is sampled with.
    """
    field = target_field(sample)
    if field == "response" and not isinstance(sample.get("response"), str):
        raise ExampleError("required for warmup-sft (or give messages)", "response")
    try:
        messages = sample_messages(sample, system=cfg.prompt.system, instruction=instruction_for(sample, cfg),
                                   with_response=field == "response")
    except ValueError as e:
        raise ExampleError(str(e), "images") from None
    if not any(m["role"] == "assistant" for m in messages):
        raise ExampleError("has no assistant turn to learn from", field)
    return messages


def _render(processor, messages, generation_prompt: bool) -> str:
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation_prompt)


def assistant_spans(processor, messages: list[dict[str, Any]]) -> tuple[str, list[tuple[int, int]]]:
    """The rendered conversation and the character spans of its assistant turns.

    A turn's span starts after the generation prompt and ends at its end-of-turn token (the
    template's trailing whitespace between turns is left out).
    """
    full = _render(processor, messages, False)
    spans = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = _render(processor, messages[:i], True)
        upto = _render(processor, messages[: i + 1], False)
        if not (upto.startswith(before) and full.startswith(upto)):
            raise ConfigError(
                "the model's chat template does not render a conversation as a prefix of its longer "
                "versions (it rewrites earlier turns), so assistant tokens cannot be located"
            )
        end = len(upto.rstrip())
        if end > len(before):
            spans.append((len(before), end))
    return full, spans


def char_mask(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[bool]:
    """For each token (by its character offsets), whether it starts inside an assistant span."""
    out = []
    for start, end in offsets:
        out.append(end > start and any(a <= start < b for a, b in spans))
    return out


def expand_mask(short_ids: list[int], short_mask: list[bool], long_ids: list[int], image_token_id: int | None) -> list[bool]:
    """Carry a token mask over the processor's expansion of each image placeholder into a run.

    ``short_ids`` is the tokenized text with one placeholder per image, ``long_ids`` what the
    processor produced; image tokens are never trained.
    """
    if short_ids == long_ids:
        return list(short_mask)
    out: list[bool] = []
    j = 0
    for tok, keep in zip(short_ids, short_mask):
        if image_token_id is not None and tok == image_token_id:
            if j >= len(long_ids) or long_ids[j] != tok:
                break
            while j < len(long_ids) and long_ids[j] == image_token_id:
                out.append(False)
                j += 1
            continue
        if j >= len(long_ids) or long_ids[j] != tok:
            break
        out.append(keep)
        j += 1
    if j != len(long_ids) or len(out) != len(long_ids):
        raise ConfigError("the processor's tokens differ from the tokenizer's beyond image expansion; "
                          "cannot align the assistant mask")
    return out


def _image_token_id(processor) -> int | None:
    tid = getattr(processor, "image_token_id", None)
    if tid is None and getattr(processor, "image_token", None):
        tid = processor.tokenizer.convert_tokens_to_ids(processor.image_token)
    return tid


def load_images(sample: dict[str, Any], base_dir: str | Path | None) -> list:
    images = []
    for i, ref in enumerate(sample.get("images") or []):
        try:
            images.append(load_image(ref, base_dir))
        except MmrlError as e:
            raise ExampleError(str(e), f"images[{i}]") from None
    return images


def build_example(sample: dict[str, Any], processor, cfg, base_dir: str | Path | None = None) -> Example:
    """Tokenize a sample for SFT.

    Returns ``input_ids`` and ``labels`` (1-D, -100 everywhere but assistant tokens), and
    whatever else the processor gives the model (``pixel_values``, ``image_grid_thw``,
    ``mm_token_type_ids``). Raises ``TooLong`` past ``cfg.batch.max_length`` unless the policy is
    ``truncate``, and ``ExampleError`` for anything else wrong with the sample.
    """
    import torch

    messages = messages_of(sample, cfg)
    full, spans = assistant_spans(processor, messages)
    images = load_images(sample, base_dir)
    kwargs: dict[str, Any] = {"return_tensors": "pt"}
    if "mm_token_type_ids" in getattr(processor, "model_input_names", ()):
        kwargs["return_mm_token_type_ids"] = True
    inputs = processor(text=[full], images=images or None, **kwargs)
    long_ids = inputs["input_ids"][0].tolist()
    tok = processor.tokenizer(full, return_offsets_mapping=True)
    mask = expand_mask(tok["input_ids"], char_mask(tok["offset_mapping"], spans), long_ids, _image_token_id(processor))

    ids = torch.tensor(long_ids, dtype=torch.long)
    labels = torch.where(torch.tensor(mask), ids, torch.full_like(ids, IGNORE_INDEX))
    example: Example = {"input_ids": ids, "labels": labels}
    for key in ("mm_token_type_ids", "token_type_ids"):
        if key in inputs:
            example[key] = inputs[key][0]
    for key in ("pixel_values", "image_grid_thw"):
        if key in inputs:
            example[key] = inputs[key]
    return apply_max_length(example, cfg, target_field(sample), _image_token_id(processor))


def apply_max_length(example: Example, cfg, field: str, image_token_id: int | None) -> Example:
    """Enforce ``cfg.batch.max_length`` by the truncation policy (images are never cut through)."""
    n = int(example["input_ids"].numel())
    if n <= cfg.batch.max_length:
        _require_targets(example, field)
        return example
    if cfg.batch.truncation != "truncate":
        raise TooLong(f"{n} tokens exceed --max-length {cfg.batch.max_length} "
                      "(raise --max-length, or choose --truncation truncate or drop)", field)
    ids = example["input_ids"]
    if image_token_id is not None and bool((ids[cfg.batch.max_length:] == image_token_id).any()):
        raise TooLong(f"{n} tokens exceed --max-length {cfg.batch.max_length} and the cut would fall inside "
                      "or before an image (raise --max-length)", field)
    out = dict(example)
    for key in ("input_ids", "labels", "mm_token_type_ids", "token_type_ids"):
        if key in out:
            out[key] = out[key][: cfg.batch.max_length]
    _require_targets(out, field, after_cut=True)
    return out


def _require_targets(example: Example, field: str, after_cut: bool = False) -> None:
    if not bool((example["labels"] != IGNORE_INDEX).any()):
        why = "no assistant tokens are left after truncation to --max-length" if after_cut else "has no assistant tokens"
        raise ExampleError(why, field)


def num_targets(example: Example) -> int:
    """How many tokens of an example the loss counts (labels shifted by one, as the loss sees them)."""
    return int((example["labels"][1:] != IGNORE_INDEX).sum())
