"""Log-probabilities and entropies of tokens from a model's logits or last hidden states.

``selective_logprobs`` is the one definition of a token's log-prob at a sampling temperature
(``log_softmax(logits / T)`` at the token) that rollout, the old/reference passes and the
update share, so an unchanged policy's ratio is exactly 1. ``chunked_logprobs`` computes it
from hidden states in pieces, never holding the whole (rows x positions x vocabulary) logits.
"""
from __future__ import annotations

import torch
from torch import Tensor

def selective_logprobs(logits: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``log softmax(logits / temperature)`` at ``tokens``; logits ``(..., V)``, tokens ``(...)``."""
    logits = logits.float()
    if temperature != 1.0:
        logits = logits / temperature
    return logits.gather(-1, tokens.unsqueeze(-1)).squeeze(-1) - torch.logsumexp(logits, dim=-1)


# Log-probs are computed from the last hidden states in pieces of the sequence, each piece's
# (rows x positions x vocab) float32 logits at most this many elements (2**28: 1 GiB); with
# gradients each piece is recomputed in backward instead of kept. At Qwen2.5-VL's 152k vocabulary
# and 8 rows a piece is ~220 positions; a tiny model's whole sequence is one piece.
LOGITS_BUDGET = 1 << 28


def logprob_piece(head, x: torch.Tensor, tokens: torch.Tensor, temperature: float, entropy: bool):
    """Log-probs (and entropies) of ``tokens`` from logits ``x`` or, with a ``head``, from hidden states."""
    logits = x if head is None else head(x)
    lp = selective_logprobs(logits, tokens, temperature)
    return (lp, token_entropy(logits, temperature)) if entropy else (lp,)


def chunked_logprobs(head, hidden: torch.Tensor, tokens: torch.Tensor, temperature: float = 1.0,
                     entropy: bool = False, logits_budget: int = LOGITS_BUDGET):
    """``selective_logprobs`` (and entropies) of ``head(hidden)`` without the whole logits tensor.

    ``hidden`` ``(R, T, H)``, ``tokens`` ``(R, T)``. The positions are cut into pieces of at most
    ``logits_budget`` logits; with gradients each piece is checkpointed (its logits are recomputed
    in backward, not kept), so the peak is one piece's logits. Returns a tuple ``(logprobs,)`` or
    ``(logprobs, entropy)``; values and gradients equal the unchunked computation.
    """
    rows, width = tokens.shape
    vocab = _vocab_size(head)
    per = max(1, logits_budget // max(1, rows * vocab))
    if per >= width:
        return logprob_piece(head, hidden, tokens, temperature, entropy)
    grad = torch.is_grad_enabled()
    pieces = []
    for start in range(0, width, per):
        h, t = hidden[:, start:start + per], tokens[:, start:start + per]
        if grad:
            from torch.utils.checkpoint import checkpoint

            pieces.append(checkpoint(logprob_piece, head, h, t, temperature, entropy, use_reentrant=False))
        else:
            pieces.append(logprob_piece(head, h, t, temperature, entropy))
    return tuple(torch.cat([p[i] for p in pieces], dim=1) for i in range(len(pieces[0])))


def _vocab_size(head) -> int:
    weight = getattr(head, "weight", None)
    shape = getattr(weight, "ds_shape", None) or (tuple(weight.shape) if weight is not None else ())
    if len(shape) == 2:  # (vocab, hidden); ZeRO-3 keeps the full shape in ds_shape
        return int(shape[0])
    return int(getattr(head, "out_features", 0) or 1 << 17)


def entropy_from_logits(logits: Tensor) -> Tensor:
    """Entropy of ``softmax(logits)`` over the last axis: ``logsumexp(z) - sum(p * z)``.

    Stable for large logits; -inf logits (a masked vocabulary) count as probability 0. Half
    precision is computed in float32.
    """
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    p = torch.softmax(logits, dim=-1)
    pz = torch.where(p > 0, p * logits, torch.zeros_like(p))
    return torch.logsumexp(logits, dim=-1) - pz.sum(dim=-1)


def token_entropy(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Entropy of ``softmax(logits / temperature)`` over the last axis (nats)."""
    logits = logits.float()
    return entropy_from_logits(logits / temperature if temperature != 1.0 else logits)
