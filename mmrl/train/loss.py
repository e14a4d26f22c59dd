"""Token-level log-likelihood of labelled tokens: tensors in, tensors out.

``labels`` hold the token ids to predict and -100 where nothing is predicted (prompts, images,
padding). Position t's logits predict token t+1, so the two are shifted by one here, once.
"""
from __future__ import annotations

IGNORE_INDEX = -100


def token_logprobs(logits, labels):
    """Log-probability of each next labelled token, 0 where the label is ignored; shape (B, L-1)."""
    import torch

    logits = logits[:, :-1].float()
    target = labels[:, 1:]
    mask = target != IGNORE_INDEX
    safe = torch.where(mask, target, torch.zeros_like(target))
    logp = torch.log_softmax(logits, dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return logp * mask


def nll_sum(logits, labels):
    """Summed negative log-likelihood of the labelled tokens and how many there are."""
    import torch.nn.functional as F

    target = labels[:, 1:]
    loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]), target.reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")
    return loss, int((target != IGNORE_INDEX).sum())
