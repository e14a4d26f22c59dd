"""R1-VL's step-wise rewards: ``steprar`` (reasoning accuracy) and ``steprvr`` (reasoning validity).

Both follow the authors' code (jingyi0000/R1-VL, ``src/r1-vl/src/open_r1/grpo.py``), which reads
responses in Mulberry's sectioned format::

    ### Image Description: ...
    ### Rationales: ...
    ### Let's think step by step.
    ### Step 1: ...
    ### Step 2: ...
    ### The final answer is: ...

StepRAR (``key_step_single`` there): a sample's ``key_steps`` (each a string, or a list of
equivalent forms such as ``["\\frac{6}{3}=2", "6/3 = 2"]``) are soft-matched inside the text of the
``### Step N:`` sections only, not in the description, the rationales or the answer. mmrl's soft
matching normalises both sides (case, spaces, ``\\times``/``×``/``\\cdot`` as ``*``,
``\\div``/``÷`` as ``/``, simple ``\\frac{a}{b}`` as ``a/b``, braces and ``$`` dropped) where the
authors' code only lowercases. With ``k = matched / total`` the reward is ``1 + alpha*k`` when the
final answer is right, ``alpha*k`` when it is wrong but present, and 0 when there is none: the
paper's rule. An answer is present when the response states one (``<answer>``, a box, "the final
answer is"); the ``fallback`` extraction of the last line does not count. ``no_answer="alpha_k"``
gives ``alpha*k`` there too, as the authors' code does. alpha = 0.1.

StepRVR (``validity_reward`` there): 1 only when the response is complete, i.e. it has the
``### Image Description:`` and ``### Rationales:`` sections, ``### Step 1:`` and a final answer
(``### The final answer is:``, or mmrl's ``<answer>…</answer>`` that the warm-up data converted
from it teaches), and logical: the steps are numbered 1..n in order and the final answer comes
after the last step. ``min_steps`` (default 1, as the authors) raises the least number of steps.

Both verifiers report ``step_rar``, ``step_rvr`` and ``key_step_match`` (k); ``accuracy`` is the
final answer's correctness by ``answer_verifier`` (default ``math``). R1-VL's total reward is
``step_rar + step_rvr``: weights ``{"step_rar": 1, "step_rvr": 1}``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmrl.response_format import MULBERRY_DESCRIPTION, MULBERRY_FINAL_ANSWER, MULBERRY_RATIONALES
from mmrl.rewards.base import VERIFIERS, VerifierResult, check_result, param, register_verifier
from mmrl.rewards.extract import ANSWER_OPEN, extract_answer, strip_special_tokens

_FRAC = re.compile(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}")
_STEP_NORMALISE = (
    (re.compile(r"\\(?:times|cdot|ast)(?![A-Za-z])|[×·∗]"), "*"),
    (re.compile(r"\\div(?![A-Za-z])|÷"), "/"),
    (re.compile(r"\\(?:left|right)(?![A-Za-z])|\\[,;:! ]|[${}\s]|\\text"), ""),
    (re.compile(r"[−–—]"), "-"),
)
# The authors' section headers (Mulberry's format).
DESCRIPTION, RATIONALES, FINAL_ANSWER = MULBERRY_DESCRIPTION, MULBERRY_RATIONALES, MULBERRY_FINAL_ANSWER
_STEP_HEADER = re.compile(r"### Step (\d+):")
# A step's text runs to the next ``###`` header (as in the authors' code) or to the end of the thinking.
_STEP_TEXT = re.compile(r"### Step \d+:[ \t\r\n]*(.*?)(?=\n###|</think>|<answer>|\Z)", re.DOTALL)
MAX_STEP_CHARS = 100_000
NO_ANSWER_MODES = ("zero", "alpha_k")   # StepRAR without a stated answer: 0 (the paper) or alpha*k (the code)


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


def step_texts(response: str) -> str:
    """The text of the ``### Step N:`` sections, joined: where StepRAR looks for key steps."""
    return " ".join(m.group(1) for m in _STEP_TEXT.finditer(response[:MAX_STEP_CHARS]))


def key_step_match(response: str, key_steps: Sequence[Any]) -> float:
    """k = key steps found in the step sections / key steps (0 when there are none)."""
    if not key_steps:
        return 0.0
    haystack = normalize_step(step_texts(response))
    matched = 0
    for step in key_steps:
        forms = step if isinstance(step, list) else [step]
        if any(isinstance(f, str) and normalize_step(f) and normalize_step(f) in haystack for f in forms):
            matched += 1
    return matched / len(key_steps)


def _final_answer_position(text: str) -> int:
    """Where the final answer section starts (-1 without one)."""
    return max(text.rfind(FINAL_ANSWER), text.rfind(ANSWER_OPEN))


def valid_structure(response: str, *, min_steps: int = 1) -> bool:
    """StepRVR's check: every section present, steps 1..n in order, the final answer after the last."""
    text = strip_special_tokens(response)[:MAX_STEP_CHARS]
    if DESCRIPTION not in text or RATIONALES not in text:
        return False
    marks = list(_STEP_HEADER.finditer(text))
    numbers = [int(m.group(1)) for m in marks]
    if len(numbers) < max(1, min_steps) or numbers != list(range(1, len(numbers) + 1)):
        return False
    return _final_answer_position(text) > marks[-1].end()


def has_answer(response: str) -> bool:
    """Whether the response states a final answer (a tag, a box or an answer phrase; no fallback)."""
    return extract_answer(response, fallback="none").text is not None


def _step_rewards(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    inner_name = param(params, "answer_verifier", "math", str)
    if inner_name in ("steprar", "steprvr"):
        raise ValueError("answer_verifier cannot be a step verifier")
    answer = check_result(inner_name, VERIFIERS.get(inner_name)(response, sample, params))
    alpha = param(params, "alpha", 0.1, float)
    no_answer = param(params, "no_answer", "zero", str)
    if no_answer not in NO_ANSWER_MODES:
        raise ValueError(f"no_answer must be {' or '.join(NO_ANSWER_MODES)}, got {no_answer!r}")
    key_steps = sample.get("key_steps") or []
    if not isinstance(key_steps, list):
        raise ValueError("key_steps must be a list")
    k = key_step_match(response, key_steps)
    if no_answer == "zero" and not has_answer(response):
        rar = 0.0  # the paper's third case: no answer stated (a fallback's guess is not one)
    elif answer.accuracy >= 1.0:
        rar = 1.0 + alpha * k
    else:
        rar = alpha * k
    rvr = 1.0 if valid_structure(response, min_steps=param(params, "min_steps", 1, int)) else 0.0
    return VerifierResult(answer.accuracy, answer.extracted,
                          {"step_rar": rar, "step_rvr": rvr, "key_step_match": k})


@register_verifier("steprar", weights={"step_rar": 1.0})
def verify_steprar(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """R1-VL StepRAR: key_steps soft-matched in the steps (k), 1+alpha*k right / alpha*k wrong / 0 no answer."""
    return _step_rewards(response, sample, params)


@register_verifier("steprvr", weights={"step_rvr": 1.0})
def verify_steprvr(response: str, sample: Mapping[str, Any], params: Mapping[str, Any]) -> VerifierResult:
    """R1-VL StepRVR: 1 when description, rationales, steps numbered 1..n, then the final answer, in order."""
    return _step_rewards(response, sample, params)
