"""Per-draw bookkeeping of an in-process decode loop: sampling, stops, budgets, forced answers.

``DrawTracker.step`` is the step function of ``mmrl.model.prefix.decode_shared``: it gets the
next-token logits of the active rows and returns the token each row takes and whether the row is
finished. A row ends on an end-of-sequence token or a stop string (``stop``), on its token budget
(``length``), or, with forced answering on, after its answer budget or end-of-sequence once an
answer was forced (``forced``).
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from mmrl.rollout.cleaning import ResponseCleaner
from mmrl.rollout.forced import response_budget
from mmrl.rollout.token_sampling import RowStreams, row_seed, sample_tokens, sampled_logprobs
from mmrl.rollout.types import Completion, SamplingParams


class TailMatcher:
    """Finds strings at the end of a token sequence by decoding only its last few tokens."""

    def __init__(self, tokenizer: Any, strings: Sequence[str]):
        self.tokenizer = tokenizer
        self.strings = [s for s in strings if s]
        self.window = max((len(s) for s in self.strings), default=0) + 4

    def find(self, ids: Sequence[int]) -> str | None:
        if not self.strings:
            return None
        tail = self.tokenizer.decode(list(ids[-self.window:]), skip_special_tokens=False)
        return next((s for s in self.strings if s in tail), None)


@dataclass
class Row:
    ids: list[int] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    sampled: list[int] = field(default_factory=list)  # 1 per sampled token, 0 per forced one
    pending: list[int] = field(default_factory=list)  # forced tokens still to feed
    forced: bool = False
    closed: bool = False  # thinking closed (think_end seen)
    limit: int = 0
    reason: str | None = None


class DrawTracker:
    """State of ``len(keys) * params.n`` rows; row ``b * n + j`` is draw ``j`` of prompt ``keys[b]``."""

    def __init__(self, keys: Sequence[str], params: SamplingParams, tokenizer: Any, eos_ids: Sequence[int]):
        self.params, self.tokenizer = params, tokenizer
        self.eos = set(int(e) for e in eos_ids)
        base = params.seed if params.seed is not None else secrets.randbits(62)
        self.rows = [Row(limit=params.max_new_tokens) for _ in range(len(keys) * params.n)]
        self.streams = None if params.greedy else RowStreams(
            [row_seed(base, k, j) for k in keys for j in range(params.n)]
        )
        self.stops = TailMatcher(tokenizer, params.stop)
        self.forced_ids: list[int] = []
        self.think_end_ids: list[int] = []
        if params.forcing:
            self.forced_ids = tokenizer.encode(params.forced_text, add_special_tokens=False)
            self.think_end_ids = tokenizer.encode(params.think_end, add_special_tokens=False)
            self.think_end = TailMatcher(tokenizer, [params.think_end])

    @property
    def max_steps(self) -> int:
        return response_budget(self.params, len(self.forced_ids))

    def step(self, logits: torch.Tensor, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.params
        row_ids = rows.tolist()
        u = None if self.streams is None else self.streams.uniforms(row_ids)
        tokens = sample_tokens(logits, u, p.temperature, p.top_k, p.top_p).cpu()
        forced = [bool(self.rows[r].pending) for r in row_ids]
        for i, r in enumerate(row_ids):
            row = self.rows[r]
            if row.pending:
                tokens[i] = row.pending.pop(0)
        lps = None
        if p.logprobs:
            lps = sampled_logprobs(logits, tokens.to(logits.device), p.temperature, p.top_k, p.top_p).tolist()
        finished = torch.zeros(len(row_ids), dtype=torch.bool)
        for i, r in enumerate(row_ids):
            row = self.rows[r]
            tok = int(tokens[i])
            row.ids.append(tok)
            row.sampled.append(0 if forced[i] else 1)
            if lps is not None:
                row.logprobs.append(lps[i])
            finished[i] = self._update(row, tok)
        return tokens, finished

    def _update(self, row: Row, tok: int) -> bool:
        """Record one token of a row; True when the row is finished."""
        p = self.params
        if row.pending:
            return False
        if tok in self.eos:
            row.reason = "forced" if row.forced else "stop"
            return True
        if self.stops.strings and not row.forced and self.stops.find(row.ids):
            row.reason = "stop"
            return True
        if p.forcing and not row.forced and not row.closed:
            row.closed = self._closes_thinking(row.ids)
            if not row.closed and len(row.ids) >= p.think_budget:
                row.forced, row.pending = True, list(self.forced_ids)
                row.limit = len(row.ids) + len(self.forced_ids) + p.answer_budget
                return False
        if len(row.ids) >= row.limit:
            row.reason = "forced" if row.forced else "length"
            return True
        return False

    def _closes_thinking(self, ids: list[int]) -> bool:
        k = len(self.think_end_ids)
        if k and ids[-k:] == self.think_end_ids:
            return True
        return k != 1 and self.think_end.find(ids) is not None

    def completions(self, cleaner: ResponseCleaner) -> list[Completion]:
        """The finished draws in row order, decoded, cut at a stop string and cleaned."""
        out = []
        for row in self.rows:
            text = self.tokenizer.decode(row.ids, skip_special_tokens=True)
            if row.reason == "stop" and self.params.stop:
                text = cut_at_stop(text, self.params.stop)
            out.append(Completion(
                text=cleaner(text), token_ids=list(row.ids), finish_reason=row.reason or "length",
                num_tokens=len(row.ids), logprobs=list(row.logprobs) if self.params.logprobs else None,
                loss_mask=None if all(row.sampled) else list(row.sampled),
            ))
        return out


def cut_at_stop(text: str, stops: Sequence[str]) -> str:
    """Text before the first occurrence of any stop string (the stop string itself excluded)."""
    cut = min((i for i in (text.find(s) for s in stops if s) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]
