"""Shared-prefix decoding and log-probs equal the plain full-sequence computations."""
from __future__ import annotations

import pytest
import torch

from mmrl.model.prefix import decode_shared, pad_responses, shared_prefix_logprobs

N = 3
STEPS = 10


def greedy_collect(model, inputs, n, steps, finish_after=None):
    """Greedy tokens per row through decode_shared; rows may finish after finish_after[row] tokens."""
    out: dict[int, list[int]] = {}
    seen_batch: list[int] = []

    def step(logits, rows):
        seen_batch.append(len(rows))
        tok = logits.argmax(-1)
        for r, t in zip(rows.tolist(), tok.tolist()):
            out.setdefault(r, []).append(t)
        limit = [finish_after.get(r, steps) if finish_after else steps for r in rows.tolist()]
        return tok, torch.tensor([len(out[r]) >= lim for r, lim in zip(rows.tolist(), limit)])

    decode_shared(model, inputs, n, step, steps)
    return [out[i] for i in range(len(out))], seen_batch


@pytest.fixture(scope="module")
def group(prompts, hf_backend):
    """Three prompts of different lengths (left padding matters) and their repeated batch."""
    chosen = [prompts[0], prompts[3], prompts[5]]
    shared = hf_backend.encode(chosen)
    repeated = hf_backend.encode([p for p in chosen for _ in range(N)])
    return chosen, shared, repeated


def test_greedy_tokens_identical_to_generate_on_repeated_prompts(loaded, group):
    _, shared, repeated = group
    assert len(set(shared["attention_mask"].sum(-1).tolist())) > 1, "prompts should differ in length"
    ours, _ = greedy_collect(loaded.model, shared, N, STEPS)
    with torch.no_grad():
        full = loaded.model.generate(**repeated, max_new_tokens=STEPS, do_sample=False, eos_token_id=None,
                                     min_new_tokens=STEPS)
    theirs = full[:, repeated["input_ids"].shape[1]:].tolist()
    assert ours == theirs
    assert len({tuple(t) for t in ours}) > 1, "different prompts should give different tokens"


def test_finished_rows_leave_the_batch_without_changing_the_others(loaded, group):
    _, shared, _ = group
    full, _ = greedy_collect(loaded.model, shared, N, STEPS)
    early = {0: 2, 4: 5}
    cut, batch_sizes = greedy_collect(loaded.model, shared, N, STEPS, finish_after=early)
    assert batch_sizes[0] == 3 * N and batch_sizes[-1] == 3 * N - 2
    for row, tokens in enumerate(cut):
        assert tokens == full[row][: early.get(row, STEPS)]


def test_uneven_group_sizes(loaded, group):
    _, shared, _ = group
    rows = []
    decode_shared(loaded.model, shared, [1, 2, 0], lambda lg, r: (rows.append(r.tolist()) or lg.argmax(-1),
                                                                 torch.ones(len(r), dtype=torch.bool)), 1)
    assert rows == [[0, 1, 2]]


def full_logprobs(model, repeated, responses):
    """Reference: one forward over prompt + response for every row."""
    ids, mask = pad_responses(responses, 0)
    am = torch.cat([repeated["attention_mask"], mask], 1)
    kwargs = {k: v for k, v in repeated.items() if k not in ("input_ids", "attention_mask", "mm_token_type_ids")}
    mm = torch.cat([repeated["mm_token_type_ids"], torch.zeros_like(ids)], 1)
    out = model(input_ids=torch.cat([repeated["input_ids"], ids], 1), attention_mask=am, mm_token_type_ids=mm, **kwargs)
    start = repeated["input_ids"].shape[1]
    logits = out.logits[:, start - 1:-1].float()
    return (torch.log_softmax(logits, -1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)) * mask


@pytest.fixture(scope="module")
def responses(loaded, group):
    _, shared, _ = group
    greedy, _ = greedy_collect(loaded.model, shared, N, STEPS)
    # Uneven lengths: right padding inside the continuation batch must not leak.
    return [t[: STEPS - (i % 4)] for i, t in enumerate(greedy)]


def test_logprobs_equal_full_sequence_forward(loaded, group, responses):
    _, shared, repeated = group
    with torch.no_grad():
        ours, mask = shared_prefix_logprobs(loaded.model, shared, responses, N)
        ref = full_logprobs(loaded.model, repeated, responses)
    assert mask.sum().item() == sum(len(r) for r in responses)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)


def test_logprob_gradients_flow_through_the_shared_prefix(loaded, group, responses):
    _, shared, repeated = group
    model = loaded.model
    params = {k: p for k, p in model.named_parameters() if p.requires_grad}

    def grads(fn):
        model.zero_grad(set_to_none=True)
        fn().sum().backward()
        return {k: p.grad.detach().clone() for k, p in params.items() if p.grad is not None}

    ours = grads(lambda: shared_prefix_logprobs(model, shared, responses, N)[0])
    ref = grads(lambda: full_logprobs(model, repeated, responses))
    model.zero_grad(set_to_none=True)
    assert ours.keys() == ref.keys()
    assert any(k.startswith("model.visual") for k in ours), "the vision tower must receive gradients"
    for k in ref:
        torch.testing.assert_close(ours[k], ref[k], atol=1e-4, rtol=1e-4, msg=k)


def test_response_count_must_match_rows(loaded, group):
    _, shared, _ = group
    with pytest.raises(ValueError, match="responses"):
        shared_prefix_logprobs(loaded.model, shared, [[1, 2]], N)


def test_preallocated_cache_writes_in_place_grows_and_selects():
    from transformers.cache_utils import DynamicCache

    from mmrl.model.prefix import PreallocatedLayer, preallocate

    cache = DynamicCache()
    k = torch.arange(2 * 1 * 3 * 2, dtype=torch.float32).view(2, 1, 3, 2)
    cache.update(k, -k, 0)
    assert preallocate(cache, extra=1)
    layer = cache.layers[0]
    assert isinstance(layer, PreallocatedLayer) and layer._kbuf.shape[-2] == 4
    step = torch.full((2, 1, 1, 2), 100.0)
    keys, values = cache.update(step, -step, 0)
    assert keys.shape[-2] == 4 and cache.get_seq_length() == 4
    keys, _ = cache.update(step + 1, -step, 0)  # past the reserved room: the buffer grows
    assert keys.shape[-2] == 5 and keys[:, :, :3].equal(k) and keys[0, 0, 4].tolist() == [101.0, 101.0]
    cache.batch_select_indices(torch.tensor([1, 1, 0]))
    assert cache.layers[0].keys.shape[0] == 3 and cache.layers[0].keys[2].equal(keys[0])
    assert not preallocate(DynamicCache(), extra=1)  # nothing cached yet: left as it is


def test_preallocation_builds_new_layers_and_leaves_the_old_ones_as_they_were():
    from transformers.cache_utils import DynamicCache, DynamicLayer

    from mmrl.model.prefix import preallocate

    cache = DynamicCache()
    k = torch.ones(1, 1, 2, 2)
    cache.update(k, k, 0)
    old = cache.layers[0]
    assert preallocate(cache, extra=3)
    assert cache.layers[0] is not old and type(old) is DynamicLayer and old.keys.equal(k)


def test_prefix_passes_warn_nothing(loaded, group, responses):
    """No deprecated cache argument: transformers 5.24 renamed `past_key_values` to `cache`."""
    import warnings

    _, shared, _ = group
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        greedy_collect(loaded.model, shared, N, 2)
        shared_prefix_logprobs(loaded.model, shared, responses, N)


# --- memory: log-probs in pieces, and the shared prefix under gradient checkpointing -------------

def _grads(model, fn):
    params = {k: p for k, p in model.named_parameters() if p.requires_grad}
    model.zero_grad(set_to_none=True)
    out = fn()
    (out[0].sum() + (out[2].sum() if len(out) > 2 else 0)).backward()
    grads = {k: p.grad.detach().clone() for k, p in params.items() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return [t.detach() for t in out], grads


def test_logprobs_in_pieces_equal_the_whole_sequence_values_and_gradients(loaded, group, responses):
    _, shared, _ = group
    model = loaded.model
    vocab = model.get_output_embeddings().weight.shape[0]
    budget = len(responses) * vocab * 3  # three positions per piece: several pieces
    whole, g_whole = _grads(model, lambda: shared_prefix_logprobs(model, shared, responses, N, entropy=True))
    cut, g_cut = _grads(model, lambda: shared_prefix_logprobs(model, shared, responses, N, entropy=True,
                                                               logits_budget=budget))
    for a, b in zip(cut, whole):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    assert g_cut.keys() == g_whole.keys()
    for k in g_whole:
        torch.testing.assert_close(g_cut[k], g_whole[k], atol=1e-6, rtol=1e-5, msg=k)


def test_pieces_never_build_more_logits_than_the_budget(loaded, group, responses):
    _, shared, _ = group
    model = loaded.model
    head = model.get_output_embeddings()
    vocab = head.weight.shape[0]
    budget = len(responses) * vocab * 2
    sizes = []
    hook = head.register_forward_hook(lambda m, i, o: sizes.append(o.numel()))
    try:
        logp, _ = shared_prefix_logprobs(model, shared, responses, N, logits_budget=budget)
        logp.sum().backward()  # the recompute in backward is held to the budget too
    finally:
        hook.remove()
        model.zero_grad(set_to_none=True)
    full = len(responses) * max(len(r) for r in responses) * vocab
    assert len(sizes) > 2 and max(sizes) <= budget < full


def test_gradient_checkpointing_gives_the_same_logprobs_and_gradients(lively_model_dir, prompts):
    from mmrl.model.loading import load
    from mmrl.rollout import make_backend
    from mmrl.model.loading import enable_checkpointing

    fresh = load(lively_model_dir)
    model = fresh.model.train()
    inputs = make_backend("hf", fresh).encode([prompts[0], prompts[3]])
    responses = [[5, 9, 11, 3][: 4 - i % 2] for i in range(2 * N)]
    plain, g_plain = _grads(model, lambda: shared_prefix_logprobs(model, inputs, responses, N, entropy=True))
    enable_checkpointing(model)
    assert any(getattr(m, "gradient_checkpointing", False) for m in model.modules())
    ckpt, g_ckpt = _grads(model, lambda: shared_prefix_logprobs(model, inputs, responses, N, entropy=True))
    for a, b in zip(ckpt, plain):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    assert g_ckpt.keys() == g_plain.keys() and any(k.startswith("model.visual") for k in g_ckpt)
    for k in g_plain:
        torch.testing.assert_close(g_ckpt[k], g_plain[k], atol=1e-5, rtol=1e-5, msg=k)


def test_the_responses_pass_leaves_the_prefix_cache_as_it_was():
    from transformers.cache_utils import DynamicCache

    from mmrl.model.prefix import ReadOnlyLayer, read_only

    cache = DynamicCache()
    k = torch.ones(2, 1, 3, 2)
    cache.update(k, -k, 0)
    read_only(cache)
    keys, values = cache.update(torch.zeros(2, 1, 1, 2), torch.zeros(2, 1, 1, 2), 0)
    assert keys.shape[-2] == 4 and values.shape[-2] == 4
    assert isinstance(cache.layers[0], ReadOnlyLayer) and cache.layers[0].keys.equal(k)
    assert cache.get_seq_length() == 3


# --- images processed once per step: kept processor outputs ---------------------------------------

def test_kept_encodings_equal_the_processor_in_any_grouping(loaded, prompts):
    from mmrl.rollout.backends.hf import HFBackend

    backend = HFBackend(loaded)
    backend.keep_encodings()
    backend.encode([prompts[5], prompts[0], prompts[3]])  # the rollout's batch
    calls = []
    real = backend.processor
    backend.processor = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        kept = backend.encode([prompts[3], prompts[5]])  # a log-prob pass in another grouping
    finally:
        backend.processor = real
    backend.keep_encodings(False)
    fresh = backend.encode([prompts[3], prompts[5]])
    assert calls == [], "kept prompts must not be processed again"
    assert kept.keys() == fresh.keys() and "pixel_values" in kept
    for k in fresh:
        assert torch.equal(kept[k], fresh[k]), k


def test_outputs_with_fields_it_does_not_know_are_not_split():
    from mmrl.model.encoding import split_encoding

    assert split_encoding({"input_ids": torch.zeros(1, 2), "attention_mask": torch.ones(1, 2),
                           "pixel_values_videos": torch.zeros(1)}, [0]) is None


def test_a_frozen_vision_tower_runs_once_per_prompt_and_gives_the_same_logprobs(lively_model_dir, prompts):
    from mmrl.model.loading import ModelSpec, load
    from mmrl.rollout.backends.hf import HFBackend

    fresh = load(ModelSpec(lively_model_dir, freeze_vision=True, freeze_projector=True))
    model = fresh.model.train()
    backend = HFBackend(fresh)
    chosen = [prompts[0], prompts[3]]
    responses = [[5, 9, 11, 3][: 4 - i % 2] for i in range(2 * N)]
    pixels = backend.encode(chosen)
    calls = []
    hook = model.model.visual.register_forward_hook(lambda *a: calls.append(1))
    try:
        backend.keep_encodings(vision_features=True)
        backend.encode(chosen)  # the rollout: features computed here
        features = backend.encode(chosen)  # a log-prob pass
        ours, grads_ours = _grads(model, lambda: shared_prefix_logprobs(model, features, responses, N))
    finally:
        hook.remove()
        backend.keep_encodings(False)
    assert "pixel_values" not in features and "mm_encoder_outputs" in features
    assert len(calls) == 1, "the vision tower must run once for the step's prompts"
    ref, grads_ref = _grads(model, lambda: shared_prefix_logprobs(model, pixels, responses, N))
    torch.testing.assert_close(ours[0], ref[0], atol=1e-6, rtol=1e-6)
    assert grads_ours.keys() == grads_ref.keys() and not any(k.startswith("model.visual") for k in grads_ours)
    for k in grads_ref:
        torch.testing.assert_close(grads_ours[k], grads_ref[k], atol=1e-5, rtol=1e-5, msg=k)


def test_a_trainable_vision_tower_gets_pixels(loaded, prompts):
    from mmrl.rollout.backends.hf import HFBackend

    backend = HFBackend(loaded)
    backend.keep_encodings(vision_features=True)
    backend.encode([prompts[0]])
    assert "pixel_values" in backend.encode([prompts[0]])


# --- micro-batches inside a group: the prefix once, the rows in pieces ---------------------------

@pytest.mark.parametrize("checkpointing", [False, True])
def test_rows_in_pieces_give_the_gradients_of_one_pass(lively_model_dir, prompts, checkpointing):
    from mmrl.model.loading import load
    from mmrl.model.prefix import shared_prefix_logprobs_in_pieces
    from mmrl.rollout import make_backend
    from mmrl.model.loading import enable_checkpointing

    fresh = load(lively_model_dir)
    model = fresh.model.train()
    if checkpointing:
        enable_checkpointing(model)
    inputs = make_backend("hf", fresh).encode([prompts[0], prompts[3]])
    responses = [[5, 9, 11, 3, 7][: 5 - i % 3] for i in range(2 * N)]
    weight = torch.linspace(-1.0, 1.0, 2 * N).unsqueeze(1)  # a different weight per row
    whole, g_whole = _grads(model, lambda: (lambda o: ((o[0] * weight).sum().view(1), o[1], o[2].sum().view(1)))(
        shared_prefix_logprobs(model, inputs, responses, N, entropy=True)))
    model.zero_grad(set_to_none=True)
    seen = []

    def on_piece(start, out):
        seen.append(len(out[0]))
        rows = slice(start, start + len(out[0]))
        return (out[0] * weight[rows]).sum() + out[2].sum()

    logp, mask, ent = shared_prefix_logprobs_in_pieces(model, inputs, responses, N, rows=2, on_piece=on_piece,
                                                       backward=lambda loss: loss.backward(), entropy=True)
    g_pieces = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    assert seen == [2, 2, 2]  # three pieces of two rows: the prompts' pass ran once
    assert g_pieces.keys() == g_whole.keys() and any(k.startswith("model.visual") for k in g_pieces)
    for k in g_whole:
        torch.testing.assert_close(g_pieces[k], g_whole[k], atol=1e-5, rtol=1e-5, msg=k)
    plain = shared_prefix_logprobs(model, inputs, responses, N)[0].detach()
    torch.testing.assert_close(logp, plain, atol=1e-6, rtol=1e-6)
