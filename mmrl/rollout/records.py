"""Samples in, SPEC section 2 rollout records out: one record per (sample, draw)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mmrl.errors import position
from mmrl.io.jsonl import Located
from mmrl.rollout.prompts import PromptBuilder, PromptConfig
from mmrl.rollout.types import Backend, Completion, Prompt, SamplingParams

ROLLOUT_FIELDS = ("sample", "response", "finish_reason", "num_tokens", "model")


def rollout_record(sample: dict[str, Any], draw: int, completion: Completion, model_name: str) -> dict[str, Any]:
    """A sample's fields unchanged (a sample's own ``response`` is replaced), plus the draw's."""
    record = dict(sample)
    record.update(sample=draw, response=completion.text, finish_reason=completion.finish_reason,
                  num_tokens=completion.num_tokens, model=model_name)
    return record


def rollout_records(
    items: Iterable[Located],
    backend: Backend,
    params: SamplingParams,
    prompt_cfg: PromptConfig | None = None,
    model_name: str = "",
    done: set | frozenset = frozenset(),
    batch_prompts: int = 16,
    on_batch: Callable[[list[Prompt], list[list[Completion]]], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Draw ``params.n`` responses per sample and yield rollout records in input order.

    ``done`` holds ``(id, draw)`` keys already written (``--resume``): a sample whose draws are
    all done is skipped; one partly done is drawn again and only its missing draws are yielded
    (seeded draws come out the same as in the interrupted run). Samples are sent to the backend
    ``batch_prompts`` at a time; ``on_batch`` sees each batch's prompts and completions.
    A sample id seen twice is an error naming both lines.
    """
    builder = PromptBuilder(prompt_cfg, processor=getattr(backend, "processor", None),
                            context_length=getattr(backend, "context_length", None))
    seen: dict[Any, int] = {}  # id -> line or row: the one thing kept per sample
    pending: list[Prompt] = []

    def flush() -> Iterator[dict[str, Any]]:
        completions = backend.generate(pending, params)
        if on_batch is not None:
            on_batch(list(pending), completions)
        for prompt, comps in zip(pending, completions):
            if len(comps) != params.n:
                raise RuntimeError(f"backend {backend.name} returned {len(comps)} completions for {params.n} draws")
            for j, comp in enumerate(comps):
                if (prompt.id, j) not in done:
                    yield rollout_record(prompt.sample, j, comp, model_name)
        pending.clear()

    for item in items:
        rid = item.record.get("id")
        if isinstance(rid, str):
            if rid in seen:
                raise item.error(f"duplicate id {rid!r} (first on {position(seen[rid], item.unit)})", "id")
            seen[rid] = item.line
        if isinstance(rid, str) and all((rid, j) in done for j in range(params.n)):
            continue
        pending.append(builder.build(item))
        if len(pending) >= batch_prompts:
            yield from flush()
    if pending:
        yield from flush()
