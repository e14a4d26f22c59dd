"""Any OpenAI-compatible chat endpoint: vLLM serve, SGLang, ``transformers serve``.

Images go as PNG data URIs (encoded once per prompt, reused for its n draws). Requests run on a
thread pool bounded by ``concurrency`` and are retried with exponential backoff on connection
errors, timeouts and 429/5xx answers. Servers differ; each difference is handled here:

* ``n`` is ignored by some servers (transformers): every draw is its own request, with its own
  seed derived from (seed, sample id, draw), so seeded runs are reproducible where the server is;
* ``top_k`` is not an OpenAI field: sent as an extra field to vLLM and SGLang, inside
  ``generation_config`` to transformers, refused with a clear error elsewhere;
* transformers samples only when the model's generation config says ``do_sample``: sampling
  settings go in a ``generation_config`` that sets it;
* reasoning moved to ``reasoning_content`` by a server-side parser is put back as
  ``<think>...</think>`` in front of the content;
* ``stop`` fails with VL processors in transformers serve: stop strings are applied by the
  client there (and always re-applied, so every server gives the same cut);
* forced answering continues the assistant message (vLLM/SGLang's ``continue_final_message``).
"""
from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mmrl.errors import ConfigError, MmrlError
from mmrl.images import to_data_uri
from mmrl.io.http import HTTPFailure, get_json, post_json
from mmrl.rollout.cleaning import clean_response
from mmrl.rollout.draws import cut_at_stop
from mmrl.rollout.forced import Continuation, generate_with_forcing
from mmrl.rollout.token_sampling import request_seed
from mmrl.rollout.types import Completion, Prompt, SamplingParams

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


class ServerError(MmrlError):
    """The endpoint refused a request or stayed unreachable after all retries."""


@dataclass(frozen=True)
class ServerQuirks:
    """What one kind of server accepts."""

    top_k: str = "none"  # "param": a top-level field; "generation_config"; "none": unsupported
    generation_config: bool = False  # sampling settings go in a generation_config JSON string
    send_stop: bool = True  # the server applies stop strings itself
    continue_final: bool = False  # continue_final_message is understood (forced answering)


SERVERS: dict[str, ServerQuirks] = {
    "vllm": ServerQuirks(top_k="param", send_stop=True, continue_final=True),
    "sglang": ServerQuirks(top_k="param", send_stop=True, continue_final=True),
    "transformers": ServerQuirks(top_k="generation_config", generation_config=True, send_stop=False),
    "generic": ServerQuirks(),
}


def openai_messages(prompt: Prompt, image_uris: list[str]) -> list[dict[str, Any]]:
    """Chat messages with each ``{"type": "image"}`` part replaced by its data URI, in order."""
    uris = iter(image_uris)
    out = []
    for m in prompt.messages:
        content = m["content"]
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "image":
                    parts.append({"type": "image_url", "image_url": {"url": next(uris)}})
                else:
                    parts.append(part)
            content = parts
        out.append({"role": m["role"], "content": content})
    return out


def request_body(model: str, messages: list[dict[str, Any]], params: SamplingParams, seed: int | None,
                 quirks: ServerQuirks, max_tokens: int, prefix: str | None = None) -> dict[str, Any]:
    """The JSON body of one chat completion request (one draw)."""
    if params.top_k and quirks.top_k == "none":
        raise ConfigError("this server takes no top_k; drop --top-k or name the server (--server vllm|sglang|transformers)")
    body: dict[str, Any] = {"model": model, "messages": list(messages), "max_tokens": max_tokens,
                            "temperature": params.temperature, "top_p": params.top_p}
    if seed is not None:
        body["seed"] = seed
    if params.top_k and quirks.top_k == "param":
        body["top_k"] = params.top_k
    if quirks.generation_config:
        gen = {"do_sample": not params.greedy, "max_new_tokens": max_tokens}
        if not params.greedy:
            gen.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k or None)
        body["generation_config"] = json.dumps({k: v for k, v in gen.items() if v is not None})
    if params.stop and quirks.send_stop:
        body["stop"] = list(params.stop)
    if prefix is not None:
        if not quirks.continue_final:
            raise ConfigError("forced answering over HTTP needs a server that continues an assistant message "
                              "(vllm or sglang: --server vllm); use the hf backend otherwise")
        body["messages"].append({"role": "assistant", "content": prefix})
        body.update(continue_final_message=True, add_generation_prompt=False)
    return body


def parse_choice(payload: dict[str, Any], params: SamplingParams) -> Completion:
    """A Completion out of a chat completion answer (its first choice)."""
    try:
        choice = payload["choices"][0]
        message = choice.get("message") or {}
    except (KeyError, IndexError, TypeError):
        raise ServerError(f"unexpected answer from the server: {json.dumps(payload)[:300]}") from None
    content = message.get("content") or ""
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if reasoning:
        content = f"<think>{reasoning}</think>{content}"
    reason = choice.get("finish_reason")
    finish = "length" if reason == "length" else "stop"
    if params.stop:
        cut = cut_at_stop(content, params.stop)
        if cut != content:
            content, finish = cut, "stop"
    usage = payload.get("usage") or {}
    num = int(usage.get("completion_tokens") or 0)
    return Completion(text=clean_response(content), token_ids=[], finish_reason=finish, num_tokens=num)


def detect_server(base_url: str, api_key: str | None, timeout: float = 10.0) -> str:
    """Which kind of server answers at ``base_url``: vllm, sglang, transformers or generic."""
    try:
        data = get_json(base_url.rstrip("/") + "/models", api_key, timeout)
        owners = {str(m.get("owned_by", "")).lower() for m in data.get("data", [])}
        for kind in ("vllm", "sglang"):
            if kind in owners:
                return kind
        if "huggingface" in owners or "transformers" in owners:
            return "transformers"
    except (OSError, ValueError, HTTPFailure):
        pass
    root = base_url.rstrip("/").removesuffix("/v1")
    try:
        if get_json(root + "/health", api_key, timeout).get("status") == "ok":
            return "transformers"
    except (OSError, ValueError, HTTPFailure):
        pass
    return "generic"


class OpenAIBackend:
    """Draws through an OpenAI-compatible ``/chat/completions`` endpoint."""

    name = "openai"

    def __init__(self, model: Any, base_url: str = "http://127.0.0.1:8000/v1", api_key: str | None = None,
                 concurrency: int = 8, max_retries: int = 5, timeout: float = 600.0, server: str = "auto",
                 backoff: float = 0.5, processor: str | None = None):
        self.model = getattr(model, "name_or_path", None) or str(model)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.max_retries, self.timeout, self.backoff = int(max_retries), float(timeout), float(backoff)
        if server == "auto":
            server = detect_server(self.base_url, api_key)
        if server not in SERVERS:
            raise ConfigError(f"unknown server kind {server!r}; choose auto, {', '.join(SERVERS)}")
        self.server, self.quirks = server, SERVERS[server]
        self.pool = ThreadPoolExecutor(max_workers=max(1, int(concurrency)), thread_name_prefix="mmrl-openai")
        self._rng = random.Random()
        self._lock = threading.Lock()
        self.processor = None
        if processor:
            from mmrl.model.processor import load_processor

            self.processor = load_processor(processor)

    def generate(self, prompts: list[Prompt], params: SamplingParams) -> list[list[Completion]]:
        messages = [openai_messages(p, [to_data_uri(im) for im in p.images]) for p in prompts]
        return generate_with_forcing(
            prompts, params,
            lambda ps, pp: self._draw(ps, messages, pp),
            lambda ps, plan, pp: self._continue(ps, messages, plan, pp),
        )

    def _draw(self, prompts: list[Prompt], messages: list[list[dict[str, Any]]],
              params: SamplingParams) -> list[list[Completion]]:
        futures = [[self.pool.submit(self._complete, request_body(
            self.model, messages[b], params, request_seed(params.seed, p.id, j), self.quirks, params.max_new_tokens), params)
            for j in range(params.n)] for b, p in enumerate(prompts)]
        return [[f.result() for f in row] for row in futures]

    def _continue(self, prompts: list[Prompt], messages: list[list[dict[str, Any]]], plan: list[Continuation],
                  params: SamplingParams) -> list[Completion]:
        # A continuation gets its own seed (draw index past n), not its first phase's again.
        seeds = [request_seed(params.seed, prompts[c.prompt_index].id, c.draw + params.n) for c in plan]
        futures = [self.pool.submit(self._complete, request_body(
            self.model, messages[c.prompt_index], params, seed, self.quirks, c.budget, prefix=c.prefix), params)
            for c, seed in zip(plan, seeds)]
        return [f.result() for f in futures]

    def _complete(self, body: dict[str, Any], params: SamplingParams) -> Completion:
        return parse_choice(self._post(self.base_url + "/chat/completions", body), params)

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return post_json(url, body, api_key=self.api_key, timeout=self.timeout, retries=self.max_retries,
                             backoff=self.backoff, retry_status=RETRY_STATUS, jitter=self._jitter)
        except HTTPFailure as e:
            if e.status is not None:
                raise ServerError(f"{url}: {e.last}") from None
            raise ServerError(f"{url}: no answer after {e.attempts} attempts: {e.last}") from None

    def _jitter(self) -> float:
        with self._lock:  # one generator shared by the request threads
            return self._rng.uniform(0, 0.25)

    def update_weights(self, weights) -> None:
        raise ConfigError("the openai backend cannot take new weights (the server owns them); use hf or vllm")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
