"""From SPEC samples to model-ready prompts: instruction, CoT prompt pool, images, length guard.

The format instruction is either fixed or drawn per sample from a pool of ~20 wordings
(V-Triune's CoT prompt pool), seeded by (pool seed, sample id) so that a sample always gets the
same wording, whatever the batch or the order of the file.
"""
from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmrl.images import ImageError, fit_image, image_tokens, load_image
from mmrl.io.jsonl import Located
from mmrl.io.schema import require_valid
from mmrl.prompting import located_messages
from mmrl.rollout.prompt_fit import check_prompt_fits
from mmrl.rollout.types import Prompt
from mmrl.settings import COUNT, setting

FORMAT_INSTRUCTION = (
    "First think step by step inside <think> </think> tags, then give the final answer inside "
    "<answer> </answer> tags."
)

# Wordings of the same output contract: reasoning in <think>, the final answer in <answer>.
COT_POOL: tuple[str, ...] = (
    FORMAT_INSTRUCTION,
    "Reason through the problem inside <think> </think>, then state the final answer inside <answer> </answer>.",
    "Think it over step by step in <think> </think> tags. Put only the final answer in <answer> </answer> tags.",
    "Before answering, write your reasoning between <think> and </think>. Then write the answer between "
    "<answer> and </answer>.",
    "Work out the answer step by step. Show the reasoning in <think> </think> and the result in <answer> </answer>.",
    "Look at the image carefully and reason in <think> </think>; finish with the answer in <answer> </answer>.",
    "Explain your thinking inside <think> </think> tags, and give your final answer inside <answer> </answer> tags.",
    "Solve it. Reasoning goes in <think> </think>; the final answer goes in <answer> </answer>.",
    "Think carefully and check each step inside <think> </think>. Answer inside <answer> </answer>.",
    "Describe what you see and reason step by step in <think> </think>, then answer in <answer> </answer>.",
    "Use <think> </think> for your chain of thought and <answer> </answer> for the final answer only.",
    "Reason first, answer second: thoughts in <think> </think>, final answer in <answer> </answer>.",
    "Break the problem into steps inside <think> </think>. Give the final answer in <answer> </answer>.",
    "Please reason step by step within <think> </think> and put your final answer within <answer> </answer>.",
    "Write out your reasoning in <think> </think> tags before giving the answer in <answer> </answer> tags.",
    "Think through the question inside <think> </think>, then reply with the answer inside <answer> </answer>.",
    "First analyse the image and the question in <think> </think>; then output the answer in <answer> </answer>.",
    "Show your work inside <think> </think>. The last thing you write is the answer inside <answer> </answer>.",
    "Reason about the question step by step (in <think> </think>) and give a concise final answer "
    "(in <answer> </answer>).",
    "Inside <think> </think>, reason until you are sure. Inside <answer> </answer>, give just the answer.",
)


@dataclass
class PromptConfig:
    """How samples become prompts.

    ``instruction`` is appended to every question (None or "" for none); with ``cot_pool`` the
    instruction is drawn per sample from ``pool`` (``COT_POOL`` by default) with ``pool_seed``.
    ``max_prompt_length`` bounds text plus image tokens (the image-token guard); None uses the
    model's context length when it is known. ``min_pixels``/``max_pixels`` default to the
    processor's bounds.
    """

    system: str | None = setting(None, help="System prompt.")
    instruction: str | None = setting(FORMAT_INSTRUCTION, show_default=False,
                                      help="Format instruction appended to each question (default: the "
                                           "<think>/<answer> one; '' for none).")
    cot_pool: bool = setting(False, help="Draw the instruction per sample from ~20 wordings (V-Triune).")
    pool: tuple[str, ...] = setting(COT_POOL, cli=False, help="The wordings --cot-pool draws from.")
    pool_seed: int = setting(0, cli=False, help="Seed of the per-sample draw from the pool.")
    max_prompt_length: int | None = setting(None, bound=COUNT, help="Most prompt tokens, images included "
                                                                    "(default: the model's context).")
    min_pixels: int | None = setting(None, flag="--prompt-min-pixels", cli=False,
                                     help="Smallest image area (trainers set the model's --min-pixels).")
    max_pixels: int | None = setting(None, flag="--prompt-max-pixels", cli=False,
                                     help="Largest image area (trainers set the model's --max-pixels).")

    def instruction_for(self, sample_id: str) -> str | None:
        """The format instruction of one sample (drawn from the pool when it is on)."""
        if self.cot_pool:
            if not self.pool:
                raise ValueError("cot_pool is on but the pool is empty")
            return random.Random(f"{self.pool_seed}\0{sample_id}").choice(self.pool)
        return self.instruction or None


class PromptBuilder:
    """Builds prompts the way one model will see them.

    With a ``processor`` (hf, vllm backends) images are resized with its pixel bounds and patch
    size, the chat template is applied, and every prompt is checked against the length guard;
    without one (openai backend: the server owns the processor) images keep the configured bounds.
    """

    def __init__(self, cfg: PromptConfig | None = None, processor: Any = None, context_length: int | None = None):
        from mmrl.model.processor import image_factor, pixel_bounds

        self.cfg = cfg or PromptConfig()
        self.processor = processor
        lo, hi = pixel_bounds(processor) if processor is not None else (56 * 56, 28 * 28 * 1280)
        self.min_pixels = self.cfg.min_pixels or lo
        self.max_pixels = self.cfg.max_pixels or hi
        self.factor = image_factor(processor) if processor is not None else 28
        self.limit = self.cfg.max_prompt_length or context_length
        self._base_dirs: dict[str, Path | None] = {}

    def _base_dir(self, item: Located) -> Path | None:
        from mmrl.io.schema import base_dir_of

        if item.path not in self._base_dirs:
            self._base_dirs[item.path] = base_dir_of(item.path) if item.path != "<stdin>" else Path.cwd()
        return self._base_dirs[item.path]

    def build(self, item: Located | dict[str, Any], base_dir: str | os.PathLike | None = None) -> Prompt:
        if isinstance(item, Located):
            located = item
        else:  # a plain record: errors name the sample id instead of a file and line
            located = Located(dict(item), f"sample {item.get('id', '?')}", None)  # type: ignore[arg-type]
        where = Path(base_dir) if base_dir is not None else self._base_dir(located)
        record = require_valid(located, "sample", where)
        images = []
        for i, ref in enumerate(record.get("images") or []):
            try:
                img = load_image(ref, where)
                images.append(fit_image(img, self.min_pixels, self.max_pixels, self.factor))
            except ImageError as e:
                raise located.error(str(e), f"images[{i}]") from None
        messages = located_messages(located, system=self.cfg.system, instruction=self.cfg.instruction_for(record["id"]))
        n_image_tokens = sum(image_tokens(im, self.min_pixels, self.max_pixels, self.factor) for im in images)
        prompt = Prompt(id=record["id"], messages=messages, images=images, sample=record,
                        located=located if isinstance(item, Located) else None, image_tokens=n_image_tokens)
        if self.processor is not None:
            templated_text(prompt, self.processor)
            check_prompt_fits(prompt, self.processor, self.limit)
        return prompt


def templated_text(prompt: Prompt, processor: Any) -> str:
    """The prompt as the model reads it (chat template with the generation prompt), computed once."""
    if prompt.text is None:
        prompt.text = processor.apply_chat_template(prompt.messages, add_generation_prompt=True, tokenize=False)
    return prompt.text


def build_prompt(item: Located | dict[str, Any], base_dir: str | os.PathLike | None = None,
                 cfg: PromptConfig | None = None, processor: Any = None) -> Prompt:
    """Build one prompt (see PromptBuilder); errors name the sample's file, line and field."""
    return PromptBuilder(cfg, processor).build(item, base_dir)

