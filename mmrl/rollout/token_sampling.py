"""Token sampling as pure tensor functions: temperature, top-k, top-p, and seeded draws.

Each row (one draw of one prompt) samples by inverse CDF from its own uniform number, and the
uniforms come from a random stream per (seed, prompt id, draw index). A draw therefore does not
depend on which other prompts share its batch, in what order, or whether the run was resumed.
"""
from __future__ import annotations

import hashlib

import torch

from mmrl.model.logprobs import selective_logprobs


def row_seed(seed: int, key: str, draw: int) -> int:
    """A 63-bit seed for one draw of one prompt, stable across runs and machines."""
    digest = hashlib.blake2b(f"{seed}\0{key}\0{draw}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & ((1 << 63) - 1)


def request_seed(seed: int | None, key: str, draw: int) -> int | None:
    """A 31-bit per-draw seed for engines and servers that take one seed per request."""
    return None if seed is None else row_seed(seed, key, draw) & 0x7FFFFFFF


class RowStreams:
    """One random stream per row; ``uniforms(rows)`` draws the next number of each given row."""

    def __init__(self, seeds: list[int]):
        self._gens = []
        for s in seeds:
            g = torch.Generator()
            g.manual_seed(s)
            self._gens.append(g)

    def uniforms(self, rows: list[int]) -> torch.Tensor:
        return torch.cat([torch.rand(1, generator=self._gens[r], dtype=torch.float64) for r in rows])


def filter_probs(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0):
    """Sampling distribution of each row after temperature, top-k and top-p.

    Returns ``(probs, order)``: ``order`` is None when ``probs`` is indexed by token id, else a
    tensor of token ids (descending probability) that ``probs`` is laid out in (top-p needs the sort).
    Top-p keeps the smallest set of most likely tokens whose mass reaches ``top_p``.
    """
    if temperature <= 0:
        raise ValueError("temperature must be > 0 for sampling (use argmax for greedy)")
    scaled = logits.float() / temperature
    if top_k and top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    probs = torch.softmax(scaled, dim=-1)
    if top_p >= 1.0:
        return probs, None
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
    mass_before = sorted_probs.cumsum(-1) - sorted_probs
    sorted_probs = sorted_probs.masked_fill(mass_before >= top_p, 0.0)
    return sorted_probs / sorted_probs.sum(-1, keepdim=True), order


def inverse_cdf(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Index drawn from each row of ``probs`` (need not be normalised) by the uniform ``u`` in [0, 1)."""
    cdf = probs.double().cumsum(-1)
    target = (u.to(cdf.dtype) * cdf[..., -1]).unsqueeze(-1)
    idx = torch.searchsorted(cdf, target, right=True).squeeze(-1)
    # Guard against rounding past the last non-zero entry: step back to a token with mass.
    idx = idx.clamp(max=probs.shape[-1] - 1)
    bad = probs.gather(-1, idx.unsqueeze(-1)).squeeze(-1) <= 0
    if bad.any():
        last_nonzero = probs.shape[-1] - 1 - (probs.flip(-1) > 0).int().argmax(-1)
        idx = torch.where(bad, last_nonzero, idx)
    return idx


def sample_tokens(logits: torch.Tensor, u: torch.Tensor | None, temperature: float, top_k: int = 0,
                  top_p: float = 1.0) -> torch.Tensor:
    """Next token of each row: argmax when ``temperature == 0``, else an inverse-CDF draw with ``u``."""
    if temperature == 0:
        return logits.argmax(-1)
    if u is None:
        raise ValueError("sampling needs one uniform number per row")
    probs, order = filter_probs(logits, temperature, top_k, top_p)
    idx = inverse_cdf(probs, u)
    return idx if order is None else order.gather(-1, idx.unsqueeze(-1)).squeeze(-1)


def sampled_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float, top_k: int = 0,
                     top_p: float = 1.0) -> torch.Tensor:
    """Log-prob of each row's token under the distribution it was drawn from: the temperature's,
    renormalised over what top-k and top-p keep (vLLM's ``processed_logprobs``); without filters
    the trainer's definition (``selective_logprobs``). Greedy rows get the temperature-1 value."""
    if temperature <= 0 or (not top_k and top_p >= 1.0):
        return selective_logprobs(logits, tokens, temperature or 1.0)
    probs, order = filter_probs(logits, temperature, top_k, top_p)
    at = tokens.unsqueeze(-1)
    if order is not None:
        at = (order == at).int().argmax(-1, keepdim=True)
    return probs.gather(-1, at).squeeze(-1).log()
