"""The cost of scoring an answer grows linearly with the response, in every script.

Two checks that count work instead of timing it (timings live in benchmarks/reward_bench.py):

- no regular expression of the reward code nests an unbounded repeat inside another (the shape
  that backtracks exponentially: ``(?:[^ ]+[ ]*)+$`` took seconds on 300 Chinese characters);
- the work of one ``math`` verifier call, counted as the characters handed to regular
  expressions plus the lines of reward code executed, grows about fourfold when the response
  grows fourfold, for Latin, CJK, Arabic and Devanagari prose ending in each way answers end.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import sys

import pytest

import mmrl.rewards
from mmrl.rewards import VERIFIERS

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

REWARD_MODULES = [importlib.import_module(m.name)
                  for m in pkgutil.walk_packages(mmrl.rewards.__path__, "mmrl.rewards.")]
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_LONG = 50  # a repeat allowed more than this many times counts as unbounded


def nested_unbounded_repeat(items, inside: bool = False) -> bool:
    """Whether a parsed pattern has an unbounded repeat inside an unbounded repeat."""
    for op, av in items:
        if op in _REPEATS:
            _, high, sub = av
            unbounded = high == sre_constants.MAXREPEAT or high > _LONG
            if (unbounded and inside) or nested_unbounded_repeat(sub, inside or unbounded):
                return True
        elif op == sre_constants.SUBPATTERN and nested_unbounded_repeat(av[-1], inside):
            return True
        elif op == sre_constants.BRANCH and any(nested_unbounded_repeat(b, inside) for b in av[1]):
            return True
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT) and nested_unbounded_repeat(av[1], inside):
            return True
    return False


def test_the_audit_finds_the_exponential_shape():
    assert nested_unbounded_repeat(sre_parse.parse(r"(?<=\d)(?:[^\s\d]+[\s/]*)+$"))
    assert not nested_unbounded_repeat(sre_parse.parse(r"(?:\d{1,3},)+\d+\s*$"))


def test_no_reward_pattern_nests_unbounded_repeats():
    offenders = [f"{mod.__name__}.{name}" for mod in REWARD_MODULES for name, value in vars(mod).items()
                 if isinstance(value, re.Pattern) and nested_unbounded_repeat(sre_parse.parse(value.pattern, value.flags))]
    assert offenders == []


# --- counting work --------------------------------------------------------------------------------
_SCANS = ("search", "match", "fullmatch", "finditer", "findall", "split")


class _Work:
    def __init__(self):
        self.count = 0


class _CountingPattern:
    """A compiled pattern that adds the length of every string it scans to the work."""

    def __init__(self, pattern: re.Pattern, work: _Work):
        self._pattern, self._work = pattern, work

    def __getattr__(self, name):
        attr = getattr(self._pattern, name)
        if name in _SCANS:
            def scan(string, *args, **kwargs):
                self._work.count += len(string)
                return attr(string, *args, **kwargs)
            return scan
        if name in ("sub", "subn"):
            def substitute(repl, string, *args, **kwargs):
                self._work.count += len(string)
                return attr(repl, string, *args, **kwargs)
            return substitute
        return attr


class _CountingRe:
    """The ``re`` module as a reward module sees it, counting the module-level scans."""

    def __init__(self, work: _Work):
        self._work = work

    def __getattr__(self, name):
        attr = getattr(re, name)
        if name in _SCANS:
            def scan(pattern, string, *args, **kwargs):
                self._work.count += len(string)
                return attr(pattern, string, *args, **kwargs)
            return scan
        if name in ("sub", "subn"):
            def substitute(pattern, repl, string, *args, **kwargs):
                self._work.count += len(string)
                return attr(pattern, repl, string, *args, **kwargs)
            return substitute
        return attr


@pytest.fixture()
def counted(monkeypatch):
    """The work of one call: regex characters scanned plus reward-code lines run."""
    work = _Work()
    for mod in REWARD_MODULES:
        for name, value in list(vars(mod).items()):
            if isinstance(value, re.Pattern):
                monkeypatch.setattr(mod, name, _CountingPattern(value, work))
        if getattr(mod, "re", None) is re:
            monkeypatch.setattr(mod, "re", _CountingRe(work))
    root = mmrl.rewards.__path__[0]

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith(root):
            return None
        if event == "line":
            work.count += 1
        return tracer

    def measure(response: str, answer: str) -> int:
        from mmrl.rewards.mathparse.equiv import _normalized
        from mmrl.rewards.mathparse.values import parse_answer
        from mmrl.rewards.mathverifier import reference_text

        for cached in (_normalized, parse_answer, reference_text):
            cached.cache_clear()
        work.count = 0
        sys.settrace(tracer)
        try:
            VERIFIERS.get("math")(response, {"answer": answer}, {})
        finally:
            sys.settrace(None)
        return work.count

    return measure


# Prose written for this test: sentences with numbers, and the ways answers end in each script.
PROSE = {
    "Latin": ("We add {a} and {b} to get {c}, then check the units again. ",
              ["The answer is 42.", "So the result is $\\boxed{42}$.", "She has **42 pages**.",
               "In total 42 apples are left."]),
    "CJK": ("我们把{a}和{b}相加得到{c}，然后再检查单位。",
            ["答案是 42。", "所以结果是 $\\boxed{42}$。", "**结论**：她一共有42页。", "桌子上一共还剩42个苹果"]),
    "Arabic": ("نجمع {a} و{b} فنحصل على {c} ثم نتحقق من الوحدات. ",
               ["الإجابة هي 42.", "إذن النتيجة $\\boxed{42}$.", "لديها **42 صفحة**.", "بقي على الطاولة 42 تفاحة"]),
    "Devanagari": ("हम {a} और {b} जोड़कर {c} पाते हैं, फिर इकाइयाँ जाँचते हैं। ",
                   ["उत्तर: 42", "अतः परिणाम $\\boxed{42}$ है।", "उसके पास **42 पृष्ठ** हैं।", "मेज़ पर कुल 42 सेब बचे हैं"]),
}


def response_of(script: str, n_sentences: int, ending: str) -> str:
    sentence, _ = PROSE[script]
    body = "".join(sentence.format(a=k, b=2 * k + 1, c=3 * k + 1) for k in range(1, n_sentences + 1))
    return body + "\n" + ending


@pytest.mark.parametrize("script", sorted(PROSE))
@pytest.mark.parametrize("ending", range(4))
def test_work_grows_linearly_with_the_response(counted, script, ending):
    closing = PROSE[script][1][ending]
    small = counted(response_of(script, 40, closing), "42")
    large = counted(response_of(script, 160, closing), "42")
    assert large <= 6 * small, f"4x the text cost {large / small:.1f}x the work"


@pytest.mark.parametrize("script", sorted(PROSE))
def test_work_grows_linearly_without_any_answer(counted, script):
    sentence, _ = PROSE[script]
    small = counted(sentence.format(a="un", b="deux", c="trois") * 40, "42")
    large = counted(sentence.format(a="un", b="deux", c="trois") * 160, "42")
    assert large <= 6 * small, f"4x the text cost {large / small:.1f}x the work"
