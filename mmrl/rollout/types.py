"""The types every rollout backend shares: what to sample, what came back, and from which prompt."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mmrl.errors import ConfigError
from mmrl.settings import COUNT, NON_NEGATIVE, NON_NEGATIVE_COUNT, Bound, setting

if TYPE_CHECKING:
    from PIL import Image

    from mmrl.io.jsonl import Located

FINISH_REASONS = ("stop", "length", "forced")


@dataclass
class SamplingParams:
    """How to draw completions; the same meaning in every backend.

    ``temperature == 0`` is greedy decoding. ``top_k == 0`` and ``top_p == 1`` switch those
    filters off. ``seed`` makes draws reproducible: each (prompt id, draw index) gets its own
    random stream, so a draw does not change with batch size, order or ``--resume``.
    ``think_budget``/``answer_budget`` turn on forced answering (GLM-4.1V): a draw that has not
    closed its thinking after ``think_budget`` tokens gets ``forced_text`` appended and may then
    answer in ``answer_budget`` more tokens.
    """

    n: int = setting(1, flag="--group-size", short="-G", bound=COUNT, algo=True, help="G: responses per prompt.")
    temperature: float = setting(1.0, bound=NON_NEGATIVE, algo=True, help="Sampling temperature (0: greedy).")
    top_p: float = setting(1.0, bound=Bound(0, 1, low_open=True), help="Nucleus sampling (1 = off).")
    top_k: int = setting(0, bound=NON_NEGATIVE_COUNT, help="Top-k sampling (0 = off).")
    max_new_tokens: int = setting(512, bound=COUNT, help="Token budget of each response.")
    stop: list[str] = setting(default_factory=list, cli=False, help="Strings that end a response.")
    seed: int | None = setting(None, flag="--sampling-seed", cli=False,
                               help="Seed of the draws (the trainer sets one per step).")
    think_budget: int | None = setting(None, bound=COUNT, help="Forced answering: close thinking after N tokens.")
    answer_budget: int = setting(64, bound=COUNT, help="Forced answering: tokens for the forced answer.")
    forced_text: str = setting("</think><answer>", cli=False, help="Appended when thinking is cut.")
    think_end: str = setting("</think>", cli=False, help="The text that closes thinking.")
    logprobs: bool = setting(False, cli=False, help="Return each token's log-probability.")

    def __post_init__(self) -> None:
        self.validate()

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def forcing(self) -> bool:
        return self.think_budget is not None

    def validate(self) -> None:
        if self.n < 1:
            raise ConfigError(f"n must be at least 1, got {self.n}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ConfigError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        if any(not s for s in self.stop):
            raise ConfigError("stop strings must be non-empty")
        if self.think_budget is not None:
            if not 1 <= self.think_budget < self.max_new_tokens:
                raise ConfigError(
                    f"think_budget must be between 1 and max_new_tokens - 1 ({self.max_new_tokens - 1}), "
                    f"got {self.think_budget}"
                )
            if self.answer_budget < 1:
                raise ConfigError(f"answer_budget must be at least 1, got {self.answer_budget}")


@dataclass
class Completion:
    """One drawn response. ``text`` has special tokens removed; ``token_ids`` are what the model
    produced (forced tokens included, the end-of-sequence token included when one was drawn).

    ``logprobs`` (when asked for) are each sampled token's log-probability under the distribution
    it was drawn from: the sampling temperature's, renormalised over what top-k/top-p keep (without
    those filters the definition the trainer uses for old, new and reference log-probs; the
    trainer's rollout correction weighs by the difference). ``loss_mask`` has one entry per token: 1 where the model sampled the
    token, 0 where the backend inserted it (forced answering's ``</think><answer>``); None means
    every token was sampled. A policy-gradient loss must only reach sampled tokens.
    """

    text: str
    token_ids: list[int]
    finish_reason: str
    num_tokens: int
    logprobs: list[float] | None = None
    loss_mask: list[int] | None = None

    def __post_init__(self) -> None:
        if self.finish_reason not in FINISH_REASONS:
            raise ValueError(f"finish_reason must be one of {FINISH_REASONS}, got {self.finish_reason!r}")
        if self.loss_mask is not None and len(self.loss_mask) != len(self.token_ids):
            raise ValueError(f"loss_mask has {len(self.loss_mask)} entries for {len(self.token_ids)} tokens")

    def sampled_mask(self) -> list[int]:
        """1 for each sampled token, 0 for each inserted one (see ``loss_mask``)."""
        return list(self.loss_mask) if self.loss_mask is not None else [1] * len(self.token_ids)


@dataclass
class Prompt:
    """A sample made ready for a model: chat messages, images already resized as the model's
    processor will resize them, and the record it came from (with its file and line)."""

    id: str
    messages: list[dict[str, Any]]
    images: list[Image.Image]
    sample: dict[str, Any]
    located: Located | None = None
    image_tokens: int = 0
    text: str | None = None  # the chat-templated prompt, when the backend's processor is known

    def error(self, reason: str, field: str | None = None):
        """A DataError naming this prompt's file and line (or its id when it has no file)."""
        from mmrl.errors import DataError

        if self.located is not None:
            return self.located.error(reason, field)
        return DataError(f"sample {self.id}", None, reason, field)


@runtime_checkable
class Backend(Protocol):
    """Draws ``params.n`` completions for each prompt, in order."""

    name: str

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]: ...

    def update_weights(self, weights) -> None: ...

    def close(self) -> None: ...
