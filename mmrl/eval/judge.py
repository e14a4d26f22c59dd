"""Optional judge: any OpenAI-compatible chat endpoint, used only where an official scorer
calls GPT (MathVista extraction, MathVerse extraction and matching). Off by default.

Greedy (temperature 0) single completions over plain HTTP (``POST {base_url}/chat/completions``),
bounded by a timeout and a fixed number of retries. Every call is recorded (prompt version,
reply) so the audit shows what the judge said, and the summary says which judge and prompts
were used.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from mmrl.errors import ConfigError, MmrlError
from mmrl.eval.prompts import PromptTemplate
from mmrl.io.http import HTTPFailure, post_json

DEFAULT_KEY_ENV = "MMRL_JUDGE_API_KEY"
# Rate limits and server errors may pass; any other client error will not go away on retry.
JUDGE_RETRY_STATUS = frozenset({429, *range(500, 600)})


class JudgeError(MmrlError):
    """The judge endpoint failed after its retries, or answered something unusable."""


@dataclass(frozen=True)
class JudgeConfig:
    """Where the judge is and how patient to be with it."""

    base_url: str
    model: str
    api_key_env: str = DEFAULT_KEY_ENV
    timeout_s: float = 60.0
    retries: int = 2
    backoff_s: float = 2.0
    max_tokens: int = 256

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"--judge-url must be an http(s) URL, got {self.base_url!r}")
        if not self.model:
            raise ConfigError("--judge-model is required with --judge-url")


@dataclass
class Judge:
    """A chat-completions client; ``ask`` renders a versioned prompt and returns the reply text."""

    config: JudgeConfig
    calls: int = 0
    prompts_used: set[str] = field(default_factory=set)

    def ask(self, prompt: PromptTemplate, **fields: str) -> dict[str, Any]:
        """One judge call; returns ``{"prompt": REF, "reply": TEXT}`` for the audit."""
        text = prompt.render(**fields)
        reply = self.complete(text)
        self.prompts_used.add(prompt.ref)
        return {"prompt": prompt.ref, "reply": reply}

    def complete(self, text: str) -> str:
        body = {
            "model": self.config.model,
            "messages": [{"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
            "n": 1,
        }
        key = os.environ.get(self.config.api_key_env) or os.environ.get("OPENAI_API_KEY")
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        try:
            payload = post_json(url, body, api_key=key, timeout=self.config.timeout_s, retries=self.config.retries,
                                backoff=self.config.backoff_s, retry_status=JUDGE_RETRY_STATUS)
        except HTTPFailure as e:
            raise JudgeError(f"judge at {url} failed after {e.attempts} tries: {e.last}") from None
        self.calls += 1
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise JudgeError(f"judge at {url} answered without choices[0].message.content: "
                             f"{json.dumps(payload)[:200]}") from None
        return (content or "").strip()

    def describe(self) -> dict[str, Any]:
        """What the summary records about the judge."""
        return {
            "model": self.config.model,
            "base_url": self.config.base_url,
            "prompts": sorted(self.prompts_used),
            "calls": self.calls,
        }
