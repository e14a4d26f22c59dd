"""R1-VL's step-wise rewards: ``steprar`` (reasoning accuracy) and ``steprvr`` (reasoning validity).

StepRAR: a sample's ``key_steps`` (each a string, or a list of equivalent forms such as
``["\\frac{6}{3}=2", "6/3 = 2"]``) are soft-matched in the response: both sides are normalised
(case, spaces, ``\\times``/``×``/``\\cdot`` as ``*``, ``\\div``/``÷`` as ``/``, simple ``\\frac{a}{b}``
as ``a/b``, braces and ``$`` dropped) and a step counts when any of its forms occurs. With
``k = matched / total`` the reward is ``1 + alpha*k`` when the final answer is right, ``alpha*k``
when it is wrong but present, and 0 when there is none (``no_answer="alpha_k"`` gives ``alpha*k``
there too, as the authors' code does). alpha = 0.1.

StepRVR: 1 only when the response is complete and logical: a description comes first, then
steps numbered 1..n in order (n >= ``min_steps``), then the final answer after the last step.

Both verifiers report ``step_rar``, ``step_rvr`` and ``key_step_match`` (k); ``accuracy`` is the
final answer's correctness by ``answer_verifier`` (default ``math``). R1-VL's total reward is
``step_rar + step_rvr``: weights ``{"step_rar": 1, "step_rvr": 1}``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmrl.rewards.base import VERIFIERS, VerifierResult, check_result, param, register_verifier
from mmrl.rewards.extract import ANSWER_IS, ANSWER_OPEN, GLM_BOX_OPEN, strip_special_tokens

_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_STEP_NORMALISE = (
    (re.compile(r"\\(?:times|cdot|ast)(?![A-Za-z])|[×·∗]"), "*"),
    (re.compile(r"\\div(?![A-Za-z])|÷"), "/"),
    (re.compile(r"\\(?:left|right)(?![A-Za-z])|\\[,;:! ]|[${}\s]|\\text"), ""),
    (re.compile(r"[−–—]"), "-"),
)
_STEP_MARK = re.compile(r"(?im)^[ \t]*(?:#+[ \t]*)?(?:\*\*)?step[ \t]*(\d+)\b")
_NUMBERED = re.compile(r"(?m)^[ \t]*(\d+)[.)][ \t]+\S")
_FINAL = re.compile(r"\\boxed|\\fbox|" + re.escape(GLM_BOX_OPEN) + "|" + re.escape(ANSWER_OPEN))
MAX_STEP_CHARS = 100_000


def normalize_step(text: str) -> str:
    """The form key steps and responses are compared in (see the module docstring)."""
    text = text.lower()
    for _ in range(3):
        new = _FRAC.sub(r"(\1)/(\2)", text)
        if new == text:
            break
        text = new
    text = re.sub(r"\((\w+)\)/\((\w+)\)", r"\1/\2", text)
    for pattern, repl in _STEP_NORMALISE:
        text = pattern.sub(repl, text)
    return text.rstrip(".")


def key_step_match(response: str, key_steps: Sequence[Any]) -> float:
    """k = matched key steps / key steps (0 when there are none)."""
    if not key_steps:
        return 0.0
    haystack = normalize_step(response[:MAX_STEP_CHARS])
    matched = 0
    for step in key_steps:
        forms = step if isinstance(step, list) else [step]
        if any(isinstance(f, str) and normalize_step(f) and normalize_step(f) in haystack for f in forms):
            matched += 1
    return matched / len(key_steps)


def _final_answer_position(text: str) -> int:
    positions = [m.start() for m in _FINAL.finditer(text)]
    positions += [m.start() for m in ANSWER_IS.finditer(text)]
    return max(positions) if positions else -1


def valid_structure(response: str, *, min_steps: int = 2, min_description_chars: int = 10) -> bool:
    """StepRVR's check: description, then steps 1..n in order, then the final answer."""
    text = strip_special_tokens(response)[:MAX_STEP_CHARS]
    marks = list(_STEP_MARK.finditer(text)) or list(_NUMBERED.finditer(text))
    numbers = [int(m.group(1)) for m in marks]
    if len(numbers) < min_steps or numbers != list(range(1, len(numbers) + 1)):
        return False
    description = re.sub(r"</?think>|#+|\*\*", " ", text[: marks[0].start()])
    if len(description.strip()) < min_description_chars:
        return False
    answer_at = _final_answer_position(text)
    return answer_at > marks[-1].start()


def _step_rewards(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    inner_name = param(params, "answer_verifier", "math", str)
    if inner_name in ("steprar", "steprvr"):
        raise ValueError("answer_verifier cannot be a step verifier")
    answer = check_result(inner_name, VERIFIERS.get(inner_name)(response, sample, params))
    alpha = param(params, "alpha", 0.1, float)
    no_answer = param(params, "no_answer", "zero", str)
    if no_answer not in ("zero", "alpha_k"):
        raise ValueError(f"no_answer must be zero or alpha_k, got {no_answer!r}")
    key_steps = sample.get("key_steps") or []
    if not isinstance(key_steps, list):
        raise ValueError("key_steps must be a list")
    k = key_step_match(response, key_steps)
    right = answer.accuracy >= 1.0
    if right:
        rar = 1.0 + alpha * k
    elif answer.extracted is not None or no_answer == "alpha_k":
        rar = alpha * k
    else:
        rar = 0.0
    rvr = 1.0 if valid_structure(
        response,
        min_steps=param(params, "min_steps", 2, int),
        min_description_chars=param(params, "min_description_chars", 10, int),
    ) else 0.0
    return VerifierResult(answer.accuracy, answer.extracted,
                          {"step_rar": rar, "step_rvr": rvr, "key_step_match": k})


@register_verifier("steprar", weights={"step_rar": 1.0})
def verify_steprar(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """R1-VL StepRAR: key_steps soft-matched (k), 1+alpha*k right / alpha*k wrong / 0 no answer."""
    return _step_rewards(response, sample, params)


@register_verifier("steprvr", weights={"step_rvr": 1.0})
def verify_steprvr(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """R1-VL StepRVR: 1 when description, steps numbered 1..n, then the final answer, in order."""
    return _step_rewards(response, sample, params)
