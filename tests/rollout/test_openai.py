"""The openai backend: request building per server, answers, retries, and a real local server."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from tests.http_server import JsonHandler, serve

from mmrl.errors import ConfigError
from mmrl.rollout import Prompt, SamplingParams
from mmrl.rollout.backends.openai import (
    SERVERS,
    OpenAIBackend,
    ServerError,
    openai_messages,
    parse_choice,
    request_body,
)

MSGS = [{"role": "user", "content": "hi"}]


def test_images_become_data_uri_parts_in_order():
    prompt = Prompt("a", [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "q"},
                                                        {"type": "image"}]}], [], {})
    parts = openai_messages(prompt, ["data:1", "data:2"])[0]["content"]
    assert parts == [{"type": "image_url", "image_url": {"url": "data:1"}}, {"type": "text", "text": "q"},
                     {"type": "image_url", "image_url": {"url": "data:2"}}]


def test_vllm_body_sends_top_k_and_stop():
    body = request_body("m", MSGS, SamplingParams(temperature=0.7, top_k=5, stop=["</answer>"]), 11, SERVERS["vllm"], 32)
    assert body["top_k"] == 5 and body["stop"] == ["</answer>"] and body["seed"] == 11 and body["max_tokens"] == 32
    assert "n" not in body and "generation_config" not in body


def test_transformers_body_samples_through_generation_config_and_keeps_stop_local():
    body = request_body("m", MSGS, SamplingParams(temperature=0.7, top_k=5, stop=["x"]), None, SERVERS["transformers"], 32)
    assert "top_k" not in body and "stop" not in body and "seed" not in body
    assert json.loads(body["generation_config"]) == {"do_sample": True, "max_new_tokens": 32, "temperature": 0.7,
                                                      "top_p": 1.0, "top_k": 5}
    greedy = request_body("m", MSGS, SamplingParams(temperature=0), None, SERVERS["transformers"], 8)
    assert json.loads(greedy["generation_config"]) == {"do_sample": False, "max_new_tokens": 8}


def test_generic_server_refuses_top_k():
    with pytest.raises(ConfigError, match="top_k"):
        request_body("m", MSGS, SamplingParams(top_k=5), None, SERVERS["generic"], 8)


def test_continuation_appends_the_assistant_prefix_only_where_supported():
    body = request_body("m", MSGS, SamplingParams(), None, SERVERS["vllm"], 8, prefix="<think>x</think><answer>")
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>x</think><answer>"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert MSGS == [{"role": "user", "content": "hi"}], "the shared messages are not modified"
    with pytest.raises(ConfigError, match="continues an assistant message"):
        request_body("m", MSGS, SamplingParams(), None, SERVERS["transformers"], 8, prefix="x")


def test_reasoning_content_is_put_back_and_stop_applied():
    payload = {"choices": [{"message": {"content": "<answer>4</answer> more<|im_end|>", "reasoning_content": "2+2"},
                            "finish_reason": "length"}], "usage": {"completion_tokens": 9}}
    c = parse_choice(payload, SamplingParams(stop=[" more"]))
    assert (c.text, c.finish_reason, c.num_tokens) == ("<think>2+2</think><answer>4</answer>", "stop", 9)
    c = parse_choice(payload, SamplingParams())
    assert c.finish_reason == "length" and c.text.endswith("more")


def test_unexpected_answer_is_a_server_error():
    with pytest.raises(ServerError, match="unexpected answer"):
        parse_choice({"error": "boom"}, SamplingParams())


class Flaky(JsonHandler):
    """Answers 503 to the first `fail` requests, then a fixed completion; 400 when asked."""

    fail = 2
    seen: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.read_json()
        Flaky.seen.append(body)
        if body.get("model") == "bad":
            return self.send_json(400, {"error": "no such model"})
        if Flaky.fail > 0:
            Flaky.fail -= 1
            return self.send_json(503, {"error": "busy"})
        self.send_json(200, {"choices": [{"message": {"content": f"seed {body.get('seed')}"}, "finish_reason": "stop"}],
                         "usage": {"completion_tokens": 2}})


@pytest.fixture
def flaky_server():
    Flaky.fail, Flaky.seen = 2, []
    with serve(Flaky) as url:
        yield url


def test_retries_with_backoff_then_succeeds(flaky_server):
    backend = OpenAIBackend("m", base_url=flaky_server, server="vllm", backoff=0.01, concurrency=1)
    try:
        prompt = Prompt("p", [{"role": "user", "content": "q"}], [], {})
        (comps,) = backend.generate([prompt], SamplingParams(n=3, seed=5))
    finally:
        backend.close()
    assert len(comps) == 3 and len(Flaky.seen) == 5  # two refused, then one request per draw
    assert len({c.text for c in comps}) == 3, "each draw has its own seed"


def test_client_errors_are_not_retried(flaky_server):
    backend = OpenAIBackend("bad", base_url=flaky_server, server="vllm", backoff=0.01)
    try:
        with pytest.raises(ServerError, match="HTTP 400"):
            backend.generate([Prompt("p", MSGS, [], {})], SamplingParams())
    finally:
        backend.close()
    assert len(Flaky.seen) == 1


def test_unreachable_server_fails_after_retries():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = OpenAIBackend("m", base_url=f"http://127.0.0.1:{port}/v1", server="vllm", backoff=0.01, max_retries=2)
    try:
        with pytest.raises(ServerError, match="no answer after 3 attempts"):
            backend.generate([Prompt("p", MSGS, [], {})], SamplingParams())
    finally:
        backend.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served_model(tiny_model_dir):
    """`transformers serve` on the tiny model, bound to 127.0.0.1, stopped after the module."""
    pytest.importorskip("fastapi", reason="needs transformers[serving] (the test extra)")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "mmrl.rollout.serve", tiny_model_dir, "--host", "127.0.0.1",
                             "--port", str(port), "--device", "cpu", "--dtype", "float32"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("transformers serve did not come up within 120 s")
            time.sleep(0.5)
        yield base + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_rollout_against_a_real_transformers_server(served_model, tiny_model_dir, synth_file, tmp_path, cli):
    from mmrl.io.jsonl import read_jsonl
    from mmrl.io.schema import check_rollout
    from mmrl.rollout.backends.openai import detect_server

    assert detect_server(served_model, None) == "transformers"
    out = tmp_path / "r.jsonl"
    result = cli("rollout", "--backend", "openai", "--base-url", served_model, "--model", tiny_model_dir,
                 "--data", synth_file, "-n", "2", "--max-new-tokens", "6", "--temperature", "1.0", "--top-k", "20",
                 "--stop", "</answer>", "-o", str(out))
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    assert len(records) == 2 * len(read_jsonl(synth_file))
    assert [r["sample"] for r in records[:4]] == [0, 1, 0, 1]
    for r in records:
        assert check_rollout(r) == []
        assert 1 <= r["num_tokens"] <= 6
        assert "<|" not in r["response"].replace("<|begin_of_box|>", "").replace("<|end_of_box|>", "")
