"""JSON over HTTP for OpenAI-compatible endpoints (rollout's openai backend, eval's judge).

Plain ``urllib`` (no client dependency): every request has a timeout, and a POST is retried with
exponential backoff on connection errors, timeouts, answers that are not JSON, and the HTTP
statuses the caller names as passing; any other status fails at once.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Container
from typing import Any

MAX_BACKOFF_S = 30.0


class HTTPFailure(Exception):
    """A request that got no usable answer: ``status`` is set when the server refused it outright
    (a status not worth retrying), else ``last`` says what the final attempt met."""

    def __init__(self, url: str, attempts: int, last: str, status: int | None = None):
        self.url, self.attempts, self.last, self.status = url, attempts, last, status
        super().__init__(f"{url}: {last}")


def json_headers(api_key: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def get_json(url: str, api_key: str | None, timeout: float) -> Any:
    """One GET; an HTTP error status is an HTTPFailure with that status."""
    req = urllib.request.Request(url, headers=json_headers(api_key))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (user-given endpoint)
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        raise HTTPFailure(url, 1, f"HTTP {e.code}", e.code) from None


def post_json(url: str, body: Any, *, api_key: str | None, timeout: float, retries: int, backoff: float,
              retry_status: Container[int], jitter: Callable[[], float] | None = None) -> Any:
    """POST ``body`` as JSON and return the decoded answer, retrying up to ``retries`` times.

    The wait after failed attempt ``a`` (from 0) is ``min(30 s, backoff * 2**a) * (1 + jitter())``.
    """
    data = json.dumps(body).encode("utf-8")
    last = ""
    for attempt in range(retries + 1):
        req = urllib.request.Request(url, data=data, headers=json_headers(api_key), method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (user-given endpoint)
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as e:
            detail = e.read().decode("utf-8", errors="replace")[:500]
            last = f"HTTP {e.code}: {detail}"
            if e.code not in retry_status:
                raise HTTPFailure(url, attempt + 1, last, e.code) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            last = str(getattr(e, "reason", e))
        except json.JSONDecodeError as e:
            last = f"answer is not JSON: {e}"
        if attempt < retries:
            time.sleep(min(MAX_BACKOFF_S, backoff * (2 ** attempt)) * (1 + (jitter() if jitter else 0.0)))
    raise HTTPFailure(url, retries + 1, last)
