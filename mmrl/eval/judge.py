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
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from mmrl.errors import ConfigError, MmrlError
from mmrl.eval.prompts import PromptTemplate

DEFAULT_KEY_ENV = "MMRL_JUDGE_API_KEY"


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
        body = json.dumps({
            "model": self.config.model,
            "messages": [{"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": self.config.max_tokens,
            "n": 1,
        }).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.config.api_key_env) or os.environ.get("OPENAI_API_KEY")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        last: str = ""
        for attempt in range(self.config.retries + 1):
            if attempt:
                time.sleep(self.config.backoff_s * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.config.timeout_s) as resp:  # noqa: S310
                    payload = json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}: {e.read()[:200].decode('utf-8', 'replace')}"
                if e.code < 500 and e.code != 429:
                    break  # a client error will not go away on retry
                continue
            except (urllib.error.URLError, TimeoutError, OSError, json.JSONDecodeError) as e:
                last = str(getattr(e, "reason", e))
                continue
            self.calls += 1
            try:
                content = payload["choices"][0]["message"]["content"]
            except (KeyError, IndexError, TypeError):
                raise JudgeError(f"judge at {url} answered without choices[0].message.content: "
                                 f"{json.dumps(payload)[:200]}") from None
            return (content or "").strip()
        raise JudgeError(f"judge at {url} failed after {self.config.retries + 1} tries: {last}")

    def describe(self) -> dict[str, Any]:
        """What the summary records about the judge."""
        return {
            "model": self.config.model,
            "base_url": self.config.base_url,
            "prompts": sorted(self.prompts_used),
            "calls": self.calls,
        }
