"""Forced answering (GLM-4.1V) for backends that cannot inject tokens mid-decode (vllm, openai).

The in-process hf backend forces inside its decode loop. A served or engine backend draws in two
phases instead: first every draw with ``think_budget`` tokens; then each draw that hit that
budget continues from its own text, either normally (it had closed its thinking: it may use the
rest of ``max_new_tokens``) or with ``forced_text`` appended and ``answer_budget`` tokens
(it had not: ``finish_reason`` becomes ``forced``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from mmrl.rollout.types import Completion, Prompt, SamplingParams


@dataclass(frozen=True)
class Continuation:
    """One draw to continue: prompt ``prompt_index``, draw ``draw``, for ``budget`` tokens, after
    ``prefix`` (its text, plus ``forced_text`` when forced) or, as token ids, ``prefix_ids`` (its
    token ids, plus the forced ids when forced)."""

    prompt_index: int
    draw: int
    prefix: str
    budget: int
    forced: bool
    prefix_ids: tuple[int, ...] = ()


DrawFn = Callable[[list[Prompt], SamplingParams], list[list[Completion]]]
ContinueFn = Callable[[list[Prompt], list[Continuation], SamplingParams], list[Completion]]


def response_budget(params: SamplingParams, forced_tokens: int) -> int:
    """The most tokens one response can have: ``max_new_tokens``, or with forcing a first phase of
    ``think_budget`` tokens, the forced text and ``answer_budget`` more, whichever is longer."""
    if not params.forcing:
        return params.max_new_tokens
    return max(params.max_new_tokens, params.think_budget + forced_tokens + params.answer_budget)


def first_phase_params(params: SamplingParams) -> SamplingParams:
    """Sampling params of the thinking phase: the think budget as the token limit, no forcing."""
    return replace(params, max_new_tokens=params.think_budget, think_budget=None)


def plan_continuations(first: Sequence[Sequence[Completion]], params: SamplingParams,
                       forced_ids: Sequence[int] = ()) -> list[Continuation]:
    """Draws of the first phase that hit the think budget, and how each goes on."""
    plan = []
    for b, comps in enumerate(first):
        for j, c in enumerate(comps):
            if c.finish_reason != "length":
                continue
            if params.think_end in c.text:
                budget = params.max_new_tokens - c.num_tokens
                if budget > 0:
                    plan.append(Continuation(b, j, c.text, budget, forced=False, prefix_ids=tuple(c.token_ids)))
            else:
                plan.append(Continuation(b, j, c.text + params.forced_text, params.answer_budget, forced=True,
                                         prefix_ids=(*c.token_ids, *forced_ids)))
    return plan


def merge(first: Completion, cont: Continuation, second: Completion, forced_ids: Sequence[int] = ()) -> Completion:
    """One completion out of a first-phase draw and its continuation."""
    extra = list(forced_ids) if cont.forced else []
    ids = list(first.token_ids) + extra + list(second.token_ids)
    logprobs = None
    if first.logprobs is not None and second.logprobs is not None:
        # Forced tokens were not sampled: they carry no sampling log-prob (NaN marks them).
        logprobs = list(first.logprobs) + [float("nan")] * len(extra) + list(second.logprobs)
    return Completion(
        text=cont.prefix + second.text,
        token_ids=ids,
        finish_reason="forced" if cont.forced else second.finish_reason,
        num_tokens=first.num_tokens + len(extra) + second.num_tokens,
        logprobs=logprobs,
        loss_mask=first.sampled_mask() + [0] * len(extra) + second.sampled_mask(),
    )


def generate_with_forcing(prompts: list[Prompt], params: SamplingParams, draw: DrawFn,
                          continue_from: ContinueFn, forced_ids: Sequence[int] = ()) -> list[list[Completion]]:
    """Two-phase generation with forced answering; without ``think_budget`` just ``draw``."""
    if not params.forcing:
        return draw(prompts, params)
    first = draw(prompts, first_phase_params(params))
    plan = plan_continuations(first, params, forced_ids)
    if not plan:
        return first
    seconds = continue_from(prompts, plan, params)
    out = [list(c) for c in first]
    for cont, second in zip(plan, seconds):
        out[cont.prompt_index][cont.draw] = merge(first[cont.prompt_index][cont.draw], cont, second, forced_ids)
    return out
