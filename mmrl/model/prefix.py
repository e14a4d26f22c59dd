"""Shared prompt prefixes: encode a prompt (images and text) once, reuse its KV cache for n draws.

GRPO-style training draws a group of n responses per prompt. Repeating the prompt n times (what
``model.generate`` on a repeated batch does) runs the vision tower and the prompt prefill n
times; here they run once per prompt and the prompt's KV cache is gathered out to its n rows.
The same machinery serves two callers:

* generation (``decode_shared``): a decode loop over all rows of a batch of prompts, with a
  caller-supplied step function that picks each row's next token and says when a row is done
  (finished rows leave the batch, so the tail of long responses costs only what is left);
* training (``shared_prefix_logprobs``): per-token log-probs of given responses computed as one
  prefix forward plus one forward over the n continuations, with gradients that flow through the
  shared prefix (the gather that expands the cache is differentiable, so each prefix activation
  receives the sum of its n rows' gradients, exactly as in a full-sequence forward).

Positions: Qwen-VL models use multimodal RoPE (three position streams; image tokens take
height/width positions, so the token after a prompt does not sit at "prompt length"). The prefix's
positions come from the model's own ``get_rope_index``; each row then continues from one past the
largest prefix position, which is what ``generate``'s ``rope_deltas`` encode. Other models use
ordinary 1-D positions that skip left padding.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from mmrl.model.logprobs import LOGITS_BUDGET, chunked_logprobs, logprob_piece

StepFn = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def rope_index_fn(model) -> Callable | None:
    """The model's multimodal RoPE index function (Qwen2-VL family), or None for 1-D positions."""
    cached = getattr(model, "_mmrl_rope_index", False)
    if cached is not False:
        return cached
    found = None
    for module in model.modules():
        fn = getattr(module, "get_rope_index", None)
        if callable(fn):
            found = fn
            break
    try:
        model._mmrl_rope_index = found
    except AttributeError:  # pragma: no cover - frozen wrappers
        pass
    return found


def prompt_positions(model, inputs: Mapping[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
    """Position ids of a left-padded prompt batch and the position of each row's next token.

    Returns ``(position_ids, next_position)``: ``(3, B, L)`` and ``(B,)`` for multimodal RoPE,
    ``(B, L)`` and ``(B,)`` otherwise.
    """
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    if mask is None:
        mask = torch.ones_like(ids)
    fn = rope_index_fn(model)
    if fn is not None:
        params = inspect.signature(fn).parameters
        kwargs = {k: inputs[k] for k in ("mm_token_type_ids", "image_grid_thw", "video_grid_thw",
                                         "second_per_grid_ts") if k in params and inputs.get(k) is not None}
        if "mm_token_type_ids" in params and "mm_token_type_ids" not in kwargs:
            kwargs["mm_token_type_ids"] = torch.zeros_like(ids)
        positions, _ = fn(ids, attention_mask=mask, **kwargs)
        valid = mask.bool().unsqueeze(0).expand_as(positions)
        next_position = positions.masked_fill(~valid, -1).amax(dim=(0, 2)) + 1
        return positions, next_position
    positions = (mask.long().cumsum(-1) - 1).clamp(min=0)
    return positions, mask.long().sum(-1)


def step_positions(next_position: torch.Tensor, length: int, mrope: bool) -> torch.Tensor:
    """Positions of ``length`` new tokens per row, continuing from ``next_position``."""
    pos = next_position.unsqueeze(-1) + torch.arange(length, device=next_position.device)
    return pos.unsqueeze(0).expand(3, -1, -1) if mrope else pos


def preallocate(cache: Any, extra: int) -> bool:
    """Replace each plain dynamic cache layer by one with room for ``extra`` more tokens.

    transformers' DynamicLayer concatenates every step (each decode step copies the whole cache);
    a preallocated buffer makes a step write one position. The cache's ``layers`` list gets new
    layer objects (built through the public constructor, holding the same keys and values); no
    existing object changes class. For decoding under no_grad only (in-place writes would break
    autograd). Returns False, changing nothing, for other caches.
    """
    from transformers.cache_utils import DynamicLayer

    layers = getattr(cache, "layers", None)
    if not isinstance(layers, list) or not layers or any(
        type(layer) is not DynamicLayer or not layer.is_initialized for layer in layers
    ):
        return False
    cache.layers[:] = [PreallocatedLayer.from_layer(layer, extra) for layer in layers]
    return True


def _dynamic_layer_class():
    from transformers.cache_utils import DynamicLayer

    return DynamicLayer


class PreallocatedLayer(_dynamic_layer_class()):  # type: ignore[misc]
    """A DynamicLayer whose keys/values are views into a buffer with spare capacity."""

    @classmethod
    def from_layer(cls, layer: Any, extra: int) -> PreallocatedLayer:
        """A new layer holding ``layer``'s keys and values, with room for ``extra`` more tokens."""
        new = cls()
        new.lazy_initialization(layer.keys, layer.values)
        new._len = layer.keys.shape[-2]
        new._kbuf = new._grow(layer.keys, new._len + extra)
        new._vbuf = new._grow(layer.values, new._len + extra)
        new._view()
        return new

    @staticmethod
    def _grow(t: torch.Tensor, capacity: int) -> torch.Tensor:
        buf = t.new_empty(*t.shape[:-2], capacity, t.shape[-1])
        buf[..., : t.shape[-2], :] = t
        return buf

    def _view(self) -> None:
        self.keys = self._kbuf[..., : self._len, :]
        self.values = self._vbuf[..., : self._len, :]

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        end = self._len + key_states.shape[-2]
        if end > self._kbuf.shape[-2]:
            self._kbuf = self._grow(self.keys, max(end, 2 * self._kbuf.shape[-2]))
            self._vbuf = self._grow(self.values, max(end, 2 * self._vbuf.shape[-2]))
        self._kbuf[..., self._len:end, :] = key_states
        self._vbuf[..., self._len:end, :] = value_states
        self._len = end
        self._view()
        return self.keys, self.values

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        self._kbuf = self._kbuf[indices, ...]
        self._vbuf = self._vbuf[indices, ...]
        self._view()

    def batch_repeat_interleave(self, repeats: int) -> None:
        self._kbuf = self._kbuf.repeat_interleave(repeats, dim=0)
        self._vbuf = self._vbuf.repeat_interleave(repeats, dim=0)
        self._view()


def cache_kwarg(model) -> str:
    """The name under which ``model.forward`` takes a KV cache: ``cache`` (transformers >= 5.24)
    or ``past_key_values`` (earlier releases; deprecated, to be removed in 5.40)."""
    cached = getattr(model, "_mmrl_cache_kwarg", None)
    if cached is not None:
        return cached
    inner = _unwrap(model)  # PEFT and DeepSpeed wrappers take **kwargs: look at the model they wrap
    forward = getattr(inner, "forward", inner)
    try:
        params = inspect.signature(forward).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        params = {}
    name = "cache" if "cache" in params else "past_key_values"
    try:
        model._mmrl_cache_kwarg = name
    except AttributeError:  # pragma: no cover - frozen wrappers
        pass
    return name


def output_cache(out: Any) -> Any:
    """The KV cache a forward returned (``out.cache`` in new releases, ``out.past_key_values`` before)."""
    cache = getattr(out, "cache", None)
    return cache if cache is not None else getattr(out, "past_key_values", None)


@dataclass
class PrefixState:
    """Rows decoding from shared, already encoded prompts.

    ``rows[i]`` is the original index of active row ``i`` (prompt ``b``, draw ``j`` is row
    ``b * n + j`` after ``expand(n)``). ``logits`` are the next-token logits of each active row.
    """

    cache: Any
    attention_mask: torch.Tensor
    next_position: torch.Tensor
    logits: torch.Tensor
    rows: torch.Tensor
    mrope: bool

    def select(self, index: torch.Tensor) -> None:
        """Keep (and/or repeat) rows by index: ``[0, 0, 1, 1]`` expands, ``[0, 2]`` drops row 1."""
        index = index.to(self.attention_mask.device)
        self.cache.batch_select_indices(index)
        self.attention_mask = self.attention_mask[index]
        self.next_position = self.next_position[index]
        self.logits = self.logits[index]
        self.rows = self.rows[index]

    def expand(self, n: int | Sequence[int]) -> None:
        """Give every prompt ``n`` rows (or ``n[b]`` rows to prompt ``b``), in prompt order."""
        batch = self.attention_mask.shape[0]
        repeats = torch.as_tensor(n if not isinstance(n, int) else [n] * batch, device=self.attention_mask.device)
        index = torch.arange(batch, device=repeats.device).repeat_interleave(repeats)
        self.select(index)
        self.rows = torch.arange(index.numel(), device=index.device)


def _model_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in inputs.items() if v is not None}


def encode_prefix(model, inputs: Mapping[str, Any], cache: Any = None) -> PrefixState:
    """Run the vision tower and the prompt prefill once for a left-padded batch of prompts
    (into ``cache`` when given: under gradient checkpointing transformers makes none itself)."""
    positions, next_position = prompt_positions(model, inputs)
    kwargs = _model_inputs(inputs)
    mask = kwargs.setdefault("attention_mask", torch.ones_like(inputs["input_ids"]))
    if cache is not None:
        kwargs[cache_kwarg(model)] = cache
    out = model(**kwargs, position_ids=positions, use_cache=True, logits_to_keep=1)
    return PrefixState(
        cache=output_cache(out),
        attention_mask=mask,
        next_position=next_position,
        logits=out.logits[:, -1, :],
        rows=torch.arange(mask.shape[0], device=mask.device),
        mrope=positions.dim() == 3,
    )


def decode_step(model, state: PrefixState, tokens: torch.Tensor) -> None:
    """Feed one token per active row; updates the cache, mask, positions and logits in place."""
    ones = torch.ones_like(state.attention_mask[:, :1])
    state.attention_mask = torch.cat([state.attention_mask, ones], dim=1)
    out = model(
        input_ids=tokens.view(-1, 1),
        attention_mask=state.attention_mask,
        position_ids=step_positions(state.next_position, 1, state.mrope),
        **{cache_kwarg(model): state.cache},
        use_cache=True,
    )
    state.next_position = state.next_position + 1
    state.logits = out.logits[:, -1, :]


@torch.no_grad()
def decode_shared(model, inputs: Mapping[str, Any], n: int | Sequence[int], step: StepFn, max_steps: int) -> None:
    """Decode ``n`` rows per prompt from one shared prefill.

    ``step(logits, rows)`` gets the next-token logits of the active rows and their original row
    indices; it returns the token each row takes and a bool per row that is True when that row
    is finished (the token is still the row's last). Finished rows leave the batch.
    """
    state = encode_prefix(model, inputs)
    preallocate(state.cache, max_steps)  # before expanding: the gather copies into the larger buffers
    state.expand(n)
    for _ in range(max_steps):
        tokens, finished = step(state.logits, state.rows)
        keep = ~finished.to(torch.bool)
        if not bool(keep.any()):
            return
        if not bool(keep.all()):
            idx = keep.nonzero().squeeze(-1)
            state.select(idx)
            tokens = tokens[idx.to(tokens.device)]
        decode_step(model, state, tokens.to(state.attention_mask.device))


def pad_responses(responses: Sequence[Sequence[int]], pad_id: int, device=None,
                  width: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token lists into ``(ids, mask)`` tensors of shape ``(R, T)`` (``T`` at least ``width``)."""
    width = max([len(r) for r in responses] + [width or 0])
    ids = torch.full((len(responses), max(width, 1)), pad_id, dtype=torch.long, device=device)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(responses):
        if r:
            ids[i, : len(r)] = torch.as_tensor(list(r), dtype=torch.long, device=device)
            mask[i, : len(r)] = 1
    return ids, mask


def shared_prefix_logprobs(
    model,
    inputs: Mapping[str, Any],
    responses: Sequence[Sequence[int]],
    n: int | Sequence[int],
    pad_id: int = 0,
    temperature: float = 1.0,
    entropy: bool = False,
    logits_budget: int = LOGITS_BUDGET,
    width: int | None = None,
):
    """Per-token log-probs of responses given their prompts, prefix computed once per prompt.

    ``responses`` are in row order: prompt 0's ``n`` (or ``n[0]``) responses, then prompt 1's, ...
    Returns ``(logprobs, mask)`` of shape ``(R, T)``: ``logprobs[i, t]`` is the log-probability of
    token ``t`` of response ``i`` under ``softmax(logits / temperature)`` (0 where ``mask`` is 0);
    with ``entropy=True`` also the entropy of that distribution at each position,
    ``(logprobs, mask, entropy)``. Runs under the caller's grad mode, so in training the loss's
    gradient reaches every parameter, the vision tower included. ``width`` pads the responses to
    at least that many positions (processes that must run forwards of one shape).

    Memory: the full ``(R, T, vocab)`` logits are never built; log-probs come from the last hidden
    states in pieces of at most ``logits_budget`` logits (``chunked_logprobs``). Under gradient
    checkpointing the prompt's decoder layers run unchecked once (the prompt is one row per group,
    its KV cache must be written) and the responses' layers are checkpointed over a read-only
    cache, so the recompute in backward reads the same prefix and writes nothing.
    """
    state, layers, checkpointing = _prefill(model, inputs)
    state.expand(n)
    if state.rows.numel() != len(responses):
        raise ValueError(f"got {len(responses)} responses for {state.rows.numel()} rows (n={n})")
    read_only(state.cache)
    return _responses_pass(model, state, responses, pad_id, temperature, entropy, logits_budget, width, layers,
                           checkpointing)


def shared_prefix_logprobs_in_pieces(
    model,
    inputs: Mapping[str, Any],
    responses: Sequence[Sequence[int]],
    n: int | Sequence[int],
    rows: int,
    on_piece: Callable[[int, tuple], torch.Tensor | None] | None = None,
    backward: Callable[[torch.Tensor], None] | None = None,
    pad_id: int = 0,
    temperature: float = 1.0,
    entropy: bool = False,
    logits_budget: int = LOGITS_BUDGET,
    width: int | None = None,
    grad_scale: float = 1.0,
):
    """``shared_prefix_logprobs`` with the rows taken ``rows`` at a time: memory for a piece, the
    prompts still prefilled once.

    Each piece's outputs (as ``shared_prefix_logprobs`` returns them, for rows ``start`` to
    ``start + len``) go to ``on_piece(start, outputs)``; with gradients it returns that piece's loss,
    which is handed to ``backward`` at once (its activations are then freed). The prompts' KV
    cache and last logits enter each piece as detached copies that collect the pieces' gradients;
    at the end one more ``backward`` carries those into the prompt's pass (the vision tower and
    prefill). The gradients equal one backward of the summed losses. ``grad_scale`` is the factor
    ``backward`` multiplies a loss by (DeepSpeed's process count), undone on that last call.
    Returns the detached outputs of all rows, ``(logprobs, mask[, entropy])``.
    """
    grad = torch.is_grad_enabled() and backward is not None
    state, layers, checkpointing = _prefill(model, inputs)
    prompts = state.attention_mask.shape[0]
    counts = torch.as_tensor([n] * prompts if isinstance(n, int) else list(n))
    owner = torch.arange(prompts).repeat_interleave(counts).to(state.attention_mask.device)
    if owner.numel() != len(responses):
        raise ValueError(f"got {len(responses)} responses for {owner.numel()} rows (n={n})")
    source = [(layer.keys, layer.values) for layer in state.cache.layers]
    if grad:
        leaves = [(k.detach().requires_grad_(), v.detach().requires_grad_()) for k, v in source]
        first = state.logits.detach().requires_grad_()
    else:
        leaves, first = source, state.logits
    width = max([len(r) for r in responses] + [width or 0])
    outs = []
    for start in range(0, len(responses), max(1, rows)):
        idx = owner[start:start + rows]
        piece = PrefixState(cache=_read_only_cache([(k[idx], v[idx]) for k, v in leaves]),
                            attention_mask=state.attention_mask[idx], next_position=state.next_position[idx],
                            logits=first[idx], rows=torch.arange(idx.numel(), device=idx.device), mrope=state.mrope)
        out = _responses_pass(model, piece, responses[start:start + rows], pad_id, temperature, entropy,
                              logits_budget, width, layers, checkpointing)
        loss = on_piece(start, out) if on_piece is not None else None
        if grad and loss is not None:
            backward(loss)
        outs.append(tuple(t.detach() for t in out))
        del out, loss, piece
    if grad:
        pairs = [(s, leaf.grad) for (sk, sv), (lk, lv) in zip(source, leaves) for s, leaf in ((sk, lk), (sv, lv))]
        pairs.append((state.logits, first.grad))
        surrogate = sum((s * g).sum() for s, g in pairs if g is not None and s.requires_grad)
        if torch.is_tensor(surrogate):
            backward(surrogate / grad_scale)
    return tuple(torch.cat([o[i] for o in outs]) for i in range(len(outs[0])))


def _read_only_cache(pairs):
    from transformers.cache_utils import DynamicCache

    cache = DynamicCache()
    cache.layers[:] = [ReadOnlyLayer.holding(k, v) for k, v in pairs]
    return cache


def _prefill(model, inputs):
    """The prompts' pass (under checkpointing its decoder layers run unchecked: they write the cache)."""
    layers = cache_layers_of(model)
    checkpointing = torch.is_grad_enabled() and any(m.gradient_checkpointing and m.training for m in layers)
    if checkpointing:
        from transformers.cache_utils import DynamicCache

        with _layer_flags(layers, gradient_checkpointing=False):
            state = encode_prefix(model, inputs, cache=DynamicCache())
    else:
        state = encode_prefix(model, inputs)
    return state, layers, checkpointing


def _responses_pass(model, state: PrefixState, responses, pad_id, temperature, entropy, logits_budget, width,
                    layers, checkpointing):
    """The responses' pass over a prompt cache already expanded to their rows and made read-only."""
    ids, resp_mask = pad_responses(responses, pad_id, device=state.attention_mask.device, width=width)
    head = output_head(model)
    kwargs = dict(
        input_ids=ids,
        attention_mask=torch.cat([state.attention_mask, resp_mask.to(state.attention_mask.dtype)], dim=1),
        position_ids=step_positions(state.next_position, ids.shape[1], state.mrope),
        use_cache=True,
        **{cache_kwarg(model): state.cache},
    )
    with _layer_flags(layers if checkpointing else [], _can_checkpoint_with_cache=True):
        if head is None:  # logits changed after the head (soft-capping, scaling): the plain path
            logits = model(**kwargs).logits
            hidden = None
        else:
            with capture_input(head) as seen:
                model(**kwargs)
            hidden = seen[0]
    first = logprob_piece(None, state.logits.unsqueeze(1), ids[:, :1], temperature, entropy)
    if hidden is None:
        rest = logprob_piece(None, logits[:, :-1], ids[:, 1:], temperature, entropy)
    else:
        rest = chunked_logprobs(head, hidden[:, :-1], ids[:, 1:], temperature, entropy, logits_budget)
    logprobs = torch.cat([first[0], rest[0]], dim=1) * resp_mask
    if not entropy:
        return logprobs, resp_mask
    return logprobs, resp_mask, torch.cat([first[1], rest[1]], dim=1) * resp_mask


def _unwrap(model):
    """The transformers model inside PEFT and DeepSpeed wrappers."""
    inner = model
    for _ in range(4):
        if hasattr(inner, "get_base_model"):
            inner = inner.get_base_model()
        elif hasattr(inner, "module") and isinstance(getattr(inner, "module"), torch.nn.Module):
            inner = inner.module
        else:
            break
    return inner


def output_head(model):
    """The module that turns the last hidden states into logits, or None when the model changes the
    logits after it (soft-capping, logit scaling: then log-probs come from the model's own logits)."""
    inner = _unwrap(model)
    config = getattr(inner, "config", None)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    for name in ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                 "logits_scaling"):
        if getattr(text, name, None) not in (None, 1, 1.0):
            return None
    getter = getattr(inner, "get_output_embeddings", None)
    head = getter() if callable(getter) else None
    return head if isinstance(head, torch.nn.Module) else None


@contextmanager
def capture_input(head):
    """While active, ``head`` records its input and returns an empty tensor instead of logits
    (the model's forward then builds no logits); the caller applies the head itself."""
    seen: list[torch.Tensor] = []

    def forward(x, *args, **kwargs):
        seen.append(x)
        return x.new_empty(*x.shape[:-1], 0)

    before = head.__dict__.get("forward", _MISSING)  # accelerate hooks set an instance forward
    head.forward = forward
    try:
        yield seen
    finally:
        if before is _MISSING:
            del head.forward
        else:
            head.forward = before


def cache_layers_of(model) -> list:
    """The decoder layers that read and write a KV cache (transformers' checkpointable layers whose
    forward takes a cache), cached on the model."""
    cached = getattr(model, "_mmrl_cache_layers", None)
    if cached is not None:
        return cached
    try:
        from transformers.modeling_layers import GradientCheckpointingLayer
    except ImportError:  # pragma: no cover - older transformers
        return []
    found = []
    for module in model.modules():
        if isinstance(module, GradientCheckpointingLayer):
            try:
                params = inspect.signature(type(module).forward).parameters
            except (TypeError, ValueError):  # pragma: no cover
                continue
            if "cache" in params or "past_key_values" in params or "use_cache" in params:
                found.append(module)
    try:
        model._mmrl_cache_layers = found
    except AttributeError:  # pragma: no cover - frozen wrappers
        pass
    return found


@contextmanager
def _layer_flags(layers, **flags):
    """Set attributes on each layer for the duration (``gradient_checkpointing`` off for the
    prompt pass; ``_can_checkpoint_with_cache`` on for the responses' pass over a read-only cache)."""
    saved = [(layer, {k: layer.__dict__.get(k, _MISSING) for k in flags}) for layer in layers]
    for layer in layers:
        for k, v in flags.items():
            setattr(layer, k, v)
    try:
        yield
    finally:
        for layer, before in saved:
            for k, v in before.items():
                if v is _MISSING:
                    layer.__dict__.pop(k, None)
                else:
                    setattr(layer, k, v)


_MISSING = object()


def read_only(cache: Any) -> None:
    """Make every layer of ``cache`` return ``past + new`` keys/values without storing the new ones.

    The responses' pass needs the prefix, never the cache it would leave behind, and a layer that
    writes nothing gives the same result when gradient checkpointing replays it in backward."""
    cache.layers[:] = [ReadOnlyLayer.from_layer(layer) for layer in cache.layers]


class ReadOnlyLayer(_dynamic_layer_class()):  # type: ignore[misc]
    """A cache layer holding a fixed past: ``update`` returns ``past + new`` and stores nothing."""

    @classmethod
    def from_layer(cls, layer: Any) -> ReadOnlyLayer:
        return cls.holding(layer.keys, layer.values)

    @classmethod
    def holding(cls, keys: torch.Tensor, values: torch.Tensor) -> ReadOnlyLayer:
        new = cls()
        new.lazy_initialization(keys, values)
        new.keys, new.values = keys, values
        return new

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        return torch.cat([self.keys, key_states], dim=-2), torch.cat([self.values, value_states], dim=-2)
