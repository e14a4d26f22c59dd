"""The hf backend through rollout_records: draws, seeds, forcing, weights."""
from __future__ import annotations

import math

import pytest
import torch

from mmrl.errors import ConfigError
from mmrl.io.schema import check_rollout
from mmrl.rollout import PromptConfig, SamplingParams, rollout_records


def run(backend, samples, **kw):
    batch_prompts = kw.pop("batch_prompts", 16)
    params = SamplingParams(**{"n": 3, "max_new_tokens": 8, "seed": 0, **kw})
    return list(rollout_records(samples, backend, params, PromptConfig(), "tiny", batch_prompts=batch_prompts))


def responses(records):
    return [(r["id"], r["sample"], r["response"]) for r in records]


def test_n_draws_per_sample_with_indices_in_order(hf_backend, samples):
    records = run(hf_backend, samples[:4], n=3)
    assert [(r["id"], r["sample"]) for r in records] == [(s.record["id"], j) for s in samples[:4] for j in range(3)]
    for r in records:
        assert check_rollout(r) == []
        assert r["model"] == "tiny" and 1 <= r["num_tokens"] <= 8


def test_sample_fields_pass_through_unchanged(hf_backend, samples):
    (record, *_) = run(hf_backend, samples[:1], n=1)
    original = samples[0].record
    for key, value in original.items():
        if key != "response":
            assert record[key] == value
    assert list(record)[: len(original)] == list(original)


def test_seeded_runs_are_reproducible(hf_backend, samples):
    assert responses(run(hf_backend, samples[:4])) == responses(run(hf_backend, samples[:4]))


def test_different_seeds_give_different_draws(hf_backend, samples):
    assert responses(run(hf_backend, samples[:4], seed=0)) != responses(run(hf_backend, samples[:4], seed=1))


def test_draws_do_not_depend_on_batching(hf_backend, samples):
    together = run(hf_backend, samples[:4])
    one_by_one = run(hf_backend, samples[:4], batch_prompts=1)
    assert responses(together) == responses(one_by_one)


def test_draws_of_one_prompt_differ_when_sampling(hf_backend, samples):
    records = run(hf_backend, samples[:1], n=4, max_new_tokens=12)
    assert len({r["response"] for r in records}) > 1


def test_greedy_draws_are_identical(hf_backend, samples):
    records = run(hf_backend, samples[:2], n=3, temperature=0)
    by_id = {}
    for r in records:
        by_id.setdefault(r["id"], set()).add(r["response"])
    assert all(len(v) == 1 for v in by_id.values())


def test_forced_answering_writes_forced_records_with_an_answer_part(hf_backend, samples):
    records = run(hf_backend, samples[:3], n=2, max_new_tokens=40, think_budget=6, answer_budget=4)
    forced = [r for r in records if r["finish_reason"] == "forced"]
    assert forced, "a random model never closes its thinking: every draw should be forced"
    for r in forced:
        assert "</think><answer>" in r["response"]
        assert r["num_tokens"] <= 6 + 2 + 4


def test_update_weights_changes_the_draws_and_can_be_undone(hf_backend, samples):
    model = hf_backend.model
    name = "lm_head.weight" if "lm_head.weight" in model.state_dict() else next(iter(model.state_dict()))
    before = responses(run(hf_backend, samples[:2], temperature=0))
    saved = model.state_dict()[name].clone()
    try:
        hf_backend.update_weights({name: torch.randn_like(saved)})
        assert responses(run(hf_backend, samples[:2], temperature=0)) != before
    finally:
        hf_backend.update_weights({name: saved})
    assert responses(run(hf_backend, samples[:2], temperature=0)) == before


def test_update_weights_refuses_unknown_names(hf_backend):
    with pytest.raises(ConfigError, match="not in the model"):
        hf_backend.update_weights({"no.such.weight": torch.zeros(1)})


def test_duplicate_ids_are_an_error_naming_both_lines(hf_backend, samples):
    from mmrl.errors import DataError
    from mmrl.io.jsonl import Located

    dup = Located(dict(samples[0].record), samples[0].path, 99)
    with pytest.raises(DataError, match=r":99: id: duplicate id .* \(first on line 1\)"):
        run(hf_backend, [samples[0], dup], n=1)


def test_resume_keys_skip_done_draws(hf_backend, samples):
    full = run(hf_backend, samples[:2], n=3)
    done = {(samples[0].record["id"], j) for j in range(3)} | {(samples[1].record["id"], 0)}
    params = SamplingParams(n=3, max_new_tokens=8, seed=0)
    rest = list(rollout_records(samples[:2], hf_backend, params, PromptConfig(), "tiny", done=done))
    assert [(r["id"], r["sample"]) for r in rest] == [(samples[1].record["id"], 1), (samples[1].record["id"], 2)]
    assert responses(rest) == responses(full[4:])


def test_sampling_logprobs_equal_recomputed_logprobs(hf_backend, prompts):
    """The log-probs a draw reports are what the trainer recomputes through the shared prefix."""
    from mmrl.model.prefix import shared_prefix_logprobs

    chosen = prompts[:2]
    groups = hf_backend.generate(chosen, SamplingParams(n=2, max_new_tokens=6, seed=0, logprobs=True))
    flat = [c for comps in groups for c in comps]
    with torch.no_grad():
        lp, mask = shared_prefix_logprobs(hf_backend.model, hf_backend.encode(chosen), [c.token_ids for c in flat], 2)
    for i, c in enumerate(flat):
        assert len(c.logprobs) == c.num_tokens
        torch.testing.assert_close(lp[i, : c.num_tokens], torch.tensor(c.logprobs), atol=1e-4, rtol=1e-4)


def test_sampling_logprobs_at_a_low_temperature_use_the_trainers_definition(hf_backend, prompts):
    """At T=0.7 the draw's log-probs are those of the sampling distribution, as the trainer computes them."""
    from mmrl.model.prefix import shared_prefix_logprobs

    chosen = prompts[:2]
    params = SamplingParams(n=2, max_new_tokens=6, seed=0, temperature=0.7, logprobs=True)
    flat = [c for comps in hf_backend.generate(chosen, params) for c in comps]
    with torch.no_grad():
        lp, _ = shared_prefix_logprobs(hf_backend.model, hf_backend.encode(chosen), [c.token_ids for c in flat], 2,
                                       temperature=0.7)
        raw, _ = shared_prefix_logprobs(hf_backend.model, hf_backend.encode(chosen), [c.token_ids for c in flat], 2)
    for i, c in enumerate(flat):
        torch.testing.assert_close(lp[i, : c.num_tokens], torch.tensor(c.logprobs), atol=1e-4, rtol=1e-4)
    assert not torch.allclose(lp, raw, atol=1e-3), "temperature must change the log-probs"


def test_forced_answer_tokens_are_masked_out_of_the_loss(hf_backend, prompts):
    params = SamplingParams(n=2, max_new_tokens=12, seed=0, think_budget=3, answer_budget=4)
    forced_ids = hf_backend.tokenizer.encode(params.forced_text, add_special_tokens=False)
    for c in (c for comps in hf_backend.generate(prompts[:2], params) for c in comps):
        mask = c.sampled_mask()
        assert len(mask) == len(c.token_ids)
        if c.finish_reason == "forced":
            start = c.token_ids.index(forced_ids[0], 3)
            assert mask[start:start + len(forced_ids)] == [0] * len(forced_ids)
            assert sum(mask) == len(mask) - len(forced_ids)
        else:
            assert c.loss_mask is None


def test_text_only_and_image_samples_share_a_batch(hf_backend, samples):
    from mmrl.io.jsonl import Located

    text_only = Located({"id": "plain", "question": "What is 2 + 3?", "answer": "5"}, samples[0].path, 50)
    mixed = run(hf_backend, [samples[0], text_only, samples[1]], n=2, temperature=0)
    alone = run(hf_backend, [text_only], n=2, temperature=0)
    assert [r["id"] for r in mixed] == [samples[0].record["id"]] * 2 + ["plain"] * 2 + [samples[1].record["id"]] * 2
    assert [r["response"] for r in mixed[2:4]] == [r["response"] for r in alone]


def test_sampling_logprobs_under_top_p_are_those_of_the_nucleus(hf_backend, prompts):
    """With top-p the draw comes from the nucleus renormalised, so its log-prob is above the
    unfiltered one the trainer computes (by -log of the kept mass; vLLM's processed_logprobs)."""
    from mmrl.model.prefix import shared_prefix_logprobs

    chosen = prompts[:2]
    params = SamplingParams(n=2, max_new_tokens=6, seed=0, top_p=0.5, logprobs=True)
    flat = [c for comps in hf_backend.generate(chosen, params) for c in comps]
    with torch.no_grad():
        lp, _ = shared_prefix_logprobs(hf_backend.model, hf_backend.encode(chosen), [c.token_ids for c in flat], 2)
    for i, c in enumerate(flat):
        gain = torch.tensor(c.logprobs) - lp[i, : c.num_tokens]
        assert (gain > 0.1).all() and (gain < -math.log(0.5) + 0.1).all(), gain
