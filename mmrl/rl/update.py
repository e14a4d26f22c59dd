"""The log-prob and update stages of a step: old and reference log-probs, then ``ppo_epochs``
passes over mini-batches of groups with the clipped policy loss, one optimizer update each.

Every log-prob here (old, reference, new) comes from ``shared_prefix_logprobs`` at the sampling
temperature: one definition, so the ratio of an unchanged policy is exactly 1. Batches are cut
by groups, never inside one, so each prompt's image and text are encoded once per pass for its
whole group. Micro-batches split a mini-batch for memory only: the loss of each is normalised by
the whole mini-batch's token (or sequence) count, so their gradients add up to the mini-batch's.

On several processes every process holds the whole batch (``collect``) and works on its share:
the groups ``mini[rank::world]`` of each mini-batch for the update (the engine sums the
gradients over processes), and ``groups[rank::world]`` for the old and reference passes, whose
log-probs are then gathered. Every process makes the same number of forwards and backwards
(ZeRO-3 gathers weights layer by layer in collectives), so shares are equal and every response
batch is padded to the step's widest response.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from mmrl.model.prefix import shared_prefix_logprobs, shared_prefix_logprobs_in_pieces
from mmrl.rl.config import GRPOConfig
from mmrl.rl.groups import StepBatch
from mmrl.rl.losses import policy_loss

Encode = Callable[[list], Any]


def chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def _pad_to(t: torch.Tensor, width: int) -> torch.Tensor:
    return t if t.shape[1] == width else torch.nn.functional.pad(t, (0, width - t.shape[1]))


def group_logprobs(model, encode: Encode, batch: StepBatch, groups: list[int], temperature: float, pad_id: int,
                   entropy: bool = False, full_width: bool = False, piece_rows: int | None = None):
    """Log-probs (and entropies) of the rows of ``groups``, each prompt prefilled once, padded to T.

    ``full_width`` pads the responses to the batch's widest before the forward (processes then
    run forwards of one shape); ``piece_rows`` (without gradients) runs the responses that many
    rows at a time."""
    inputs = encode([batch.groups[g].prompt for g in groups])
    rows = batch.rows_of(groups)
    width = batch.loss_mask.shape[1]
    responses, sizes = [batch.responses[r] for r in rows], [batch.sizes[g] for g in groups]
    if piece_rows:
        out = shared_prefix_logprobs_in_pieces(model, inputs, responses, sizes, piece_rows, pad_id=pad_id,
                                               temperature=temperature, entropy=entropy,
                                               width=width if full_width else None)
    else:
        out = shared_prefix_logprobs(model, inputs, responses, sizes, pad_id, temperature, entropy=entropy,
                                     width=width if full_width else None)
    return rows, [_pad_to(t, width) for t in out]


def _world(engine) -> tuple[int, int]:
    info = getattr(engine, "info", None)
    return (info.rank, info.world_size) if info is not None else (0, 1)


@torch.no_grad()
def frozen_logprobs(model, encode: Encode, batch: StepBatch, temperature: float, pad_id: int, micro: int,
                    context: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
                    engine: Any = None, piece_rows: int | None = None) -> torch.Tensor:
    """Log-probs of every row under ``model`` without gradients (old or reference policy), in eval mode.

    With an ``engine`` on several processes each computes its share of the groups and the shares
    are gathered, so every process ends with every row."""
    rank, world = _world(engine)
    out = torch.zeros_like(batch.loss_mask)
    was_training = model.training
    model.eval()
    mine = list(range(len(batch.groups)))[rank::world]
    done = []
    try:
        with context():
            for groups in chunks(mine, micro):
                rows, (logp, _) = group_logprobs(model, encode, batch, groups, temperature, pad_id,
                                                 full_width=world > 1, piece_rows=piece_rows)
                out[rows] = logp.float().to(out.device)
                done += rows
    finally:
        model.train(was_training)
    if world > 1:
        for rows, values in engine.all_gather_object((done, out[done].cpu())):
            out[rows] = values.to(out.device)
    return out


@dataclass
class UpdateStats:
    """A step's update statistics: token-weighted means of the per-token ones (kl, entropy, clip
    fractions, ratio), and the additive ones (``loss``, ``pg_loss``: each micro-batch's part is
    already normalised by its whole mini-batch, so the parts add up to the update's value) summed
    within each update and averaged over updates; how many updates ran or were skipped."""

    sums: dict[str, float] = field(default_factory=dict)
    weight: float = 0.0
    updates: int = 0
    skipped: int = 0
    grad_norms: list[float] = field(default_factory=list)
    totals: dict[str, list[float]] = field(default_factory=dict)  # additive stat -> its value per update

    ADDITIVE = ("loss", "pg_loss")

    def add_update(self, pending: list, grad_norm: float) -> None:
        """One update's micro-batches: (parts, tokens, loss) each."""
        self.updates += 1
        self.grad_norms.append(grad_norm)
        for key in self.ADDITIVE:
            self.totals.setdefault(key, []).append(sum(parts[key] for parts, _, _ in pending))
        for parts, tokens, _ in pending:
            for k, v in parts.items():
                if k not in self.ADDITIVE:
                    self.sums[k] = self.sums.get(k, 0.0) + float(v) * tokens
            self.weight += tokens

    def reduce(self, engine) -> None:
        """Sum the token-weighted sums and the additive parts over processes (grad norms are global)."""
        if _world(engine)[1] == 1:
            return
        for k in sorted(self.sums):
            self.sums[k] = engine.all_reduce_sum(self.sums[k])
        self.weight = engine.all_reduce_sum(self.weight)
        self.totals = {k: [engine.all_reduce_sum(x) for x in v] for k, v in sorted(self.totals.items())}

    def means(self) -> dict[str, float]:
        out = {k: v / self.weight for k, v in self.sums.items()} if self.weight else {}
        if self.grad_norms:
            out["grad_norm"] = sum(self.grad_norms) / len(self.grad_norms)
        out.update({k: sum(v) / len(v) for k, v in self.totals.items() if v})
        return out


def ppo_update(engine, encode: Encode, batch: StepBatch, cfg: GRPOConfig, pad_id: int, seed: int,
               max_len: int, on_skip: Callable[[str], None] | None = None) -> UpdateStats:
    """``ppo_epochs`` passes over shuffled mini-batches of groups; one optimizer update each.

    With a single on-policy update (``cfg.single_update``) and no stored ``old_logp``, the old
    log-probs are the detached new ones of the same forward (ratio exactly 1), which saves a pass.
    A non-finite loss or gradient skips that update (``on_skip`` is told why); on several
    processes the decision is shared, and under DeepSpeed (which updates inside the last
    backward) the backwards still run and DeepSpeed's own overflow check drops the update.
    """
    stats = UpdateStats()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(cfg.batch.ppo_epochs):
        order = torch.randperm(len(batch.groups), generator=gen).tolist()
        for mini in chunks(order, cfg.batch.mini_batch):
            pending = _mini_batch_backward(engine, encode, batch, mini, cfg, pad_id, max_len)
            _apply_update(engine, stats, pending, on_skip)
    stats.reduce(engine)
    return stats


def _mini_batch_backward(engine, encode: Encode, batch: StepBatch, mini: list[int], cfg: GRPOConfig, pad_id: int,
                         max_len: int) -> list | None:
    """Forward and backward of this process's share of a mini-batch, a micro-batch at a time; the
    (parts, tokens, loss) of each micro-batch, or None when a loss was not finite."""
    rank, world = _world(engine)
    in_backward = getattr(engine, "steps_in_backward", False)
    mask_all = batch.loss_mask[batch.rows_of(mini)]
    # token-mean: every loss token of the mini-batch; sequence means: its non-empty rows
    norm = float(mask_all.sum()) if cfg.loss.loss_agg == "token-mean" else float((mask_all.sum(1) > 0).sum())
    pending: list = []
    loss_of = _loss_of(batch, cfg, max(norm, 1.0), max_len, in_backward, pending)
    finite = True
    for micro in chunks(mini[rank::world], cfg.batch.micro_batch):
        if cfg.batch.micro_batch_rows:  # the prompts once, the responses a few rows at a time
            finite = piecewise_backward(engine, encode, batch, micro, cfg, pad_id, world, loss_of) and finite
        else:
            rows, (logp, _, ent) = group_logprobs(engine.model, encode, batch, micro, cfg.sampling.temperature,
                                                  pad_id, entropy=True, full_width=world > 1)
            loss, ok = loss_of(rows, logp, ent)
            finite = finite and ok
            if ok or in_backward:
                engine.backward(loss)
        if not finite and not in_backward:
            break
    if world > 1:
        finite = engine.all_reduce_max(0.0 if finite else 1.0) == 0.0
    return pending if finite else None


def _loss_of(batch: StepBatch, cfg: GRPOConfig, norm: float, max_len: int, in_backward: bool, pending: list):
    """The policy loss of some rows of the batch (``policy_loss`` with the run's loss settings);
    each finite one (every one under DeepSpeed, whose overflow check drops the update) is kept
    in ``pending`` for the step's statistics."""
    loss_spec = cfg.loss
    # the KL is either in the loss or in the reward (then only monitored here)
    beta = 0.0 if loss_spec.kl_in_reward else loss_spec.beta

    def loss_of(rows: list[int], logp: torch.Tensor, ent: torch.Tensor):
        device = logp.device
        mask = batch.loss_mask[rows].to(device)
        old = batch.old_logp[rows].to(device) if batch.old_logp is not None else logp.detach()
        ref = batch.ref_logp[rows].to(device) if batch.ref_logp is not None else None
        loss, parts = policy_loss(
            logp, old, batch.advantages[rows].to(device), mask,
            clip_low=loss_spec.clip_low, clip_high=loss_spec.clip_high, dual_clip=loss_spec.dual_clip,
            loss_agg=loss_spec.loss_agg, max_len=max_len, norm=norm, ref_logp=ref, beta=beta,
            kl_estimator=loss_spec.kl_estimator, kl_clamp=loss_spec.kl_clamp, entropy=ent,
            entropy_coef=loss_spec.entropy_coef, level=loss_spec.importance_sampling_level,
        )
        ok = bool(torch.isfinite(loss))
        if ok or in_backward:
            pending.append((parts, float(mask.sum()), float(loss.detach())))
        return loss, ok

    return loss_of


def _apply_update(engine, stats: UpdateStats, pending: list | None, on_skip: Callable[[str], None] | None) -> None:
    """The optimizer update of a mini-batch whose backwards ran, or its skip (non-finite loss or
    gradient), counted in ``stats``."""
    in_backward = getattr(engine, "steps_in_backward", False)
    if pending is None:
        if not in_backward:
            engine.zero_grad()
        else:
            engine.step()  # DeepSpeed has already dropped the non-finite update
        _skip(stats, on_skip, "non-finite loss")
        return
    grad_norm = engine.step()
    if not math.isfinite(grad_norm):
        _skip(stats, on_skip, "non-finite gradient")
        return
    stats.add_update(pending, grad_norm)


def _skip(stats: UpdateStats, on_skip: Callable[[str], None] | None, why: str) -> None:
    stats.skipped += 1
    if on_skip is not None:
        on_skip(why)


def piecewise_backward(engine, encode: Encode, batch: StepBatch, micro: list[int], cfg: GRPOConfig, pad_id: int,
                       world: int, loss_of) -> bool:
    """The forward and backward of a micro-batch with its responses ``--micro-batch-rows`` at a
    time (``shared_prefix_logprobs_in_pieces``); False when a piece's loss was not finite."""
    rows = batch.rows_of(micro)
    width = batch.loss_mask.shape[1]
    finite = True
    in_backward = getattr(engine, "steps_in_backward", False)

    def on_piece(start: int, out: tuple):
        nonlocal finite
        logp, _, ent = (_pad_to(t, width) for t in out)
        loss, ok = loss_of(rows[start:start + len(logp)], logp, ent)
        finite = finite and ok
        return loss if ok or in_backward else None

    inputs = encode([batch.groups[g].prompt for g in micro])
    shared_prefix_logprobs_in_pieces(
        engine.model, inputs, [batch.responses[r] for r in rows], [batch.sizes[g] for g in micro],
        cfg.batch.micro_batch_rows, on_piece=on_piece, backward=engine.backward, pad_id=pad_id,
        temperature=cfg.sampling.temperature, entropy=True, width=width if world > 1 else None,
        grad_scale=getattr(engine, "loss_scale", 1.0))
    return finite


def backwards_per_update(cfg: GRPOConfig, share: int) -> int:
    """Backward calls one process makes per optimizer update (DeepSpeed's accumulation steps):
    one per micro-batch, or with ``--micro-batch-rows`` one per piece of rows plus one for the prompts."""
    total = 0
    for micro in chunks(range(share), min(cfg.batch.micro_batch, share)):
        total += math.ceil(len(micro) * cfg.sampling.n / cfg.batch.micro_batch_rows) + 1 if cfg.batch.micro_batch_rows else 1
    return total
