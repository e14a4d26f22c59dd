"""The verifier parameters each verifier reads (``--param KEY=VALUE``, a recipe's ``param:``), and
the check that refuses an unknown one or a value of the wrong type before any scoring starts.

A parameter name means the same to every verifier that reads it (``rel_tol`` is a float for
``math`` and ``number``), so each is declared once, with the verifiers that read it. The shared
ones (format, style, extraction) are read for every sample. A user verifier (``file.py:fn``)
declares nothing: while one is in use, unknown names pass (their types are still checked). ``tests/rewards/test_params.py`` reads the library's
source for every parameter a verifier reads, so one read and not declared here (or declared and
read by no one) fails the suite.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mmrl.errors import ConfigError
from mmrl.rewards.detection import MAP_MODES
from mmrl.rewards.extract import BOX_MODES, FALLBACKS
from mmrl.rewards.format import FORMAT_MODES
from mmrl.rewards.mathparse.equiv import DECIMAL_COMMA_MODES, ORDERS
from mmrl.rewards.steps import NO_ANSWER_MODES
from mmrl.rewards.text import WHITESPACE_MODES

SHARED = "every verifier"


@dataclass(frozen=True)
class ParamDecl:
    kind: str                          # bool, int, number, text, list, threshold
    readers: tuple[str, ...]           # the verifiers that read it (SHARED: all)
    choices: tuple[str, ...] = ()

    def accepts(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if self.kind == "bool":
            return isinstance(value, bool)
        if self.kind == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if self.kind == "number":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind == "text":
            return isinstance(value, str)
        if self.kind == "list":
            return isinstance(value, list)
        if self.kind == "threshold":  # a number, "dynamic", or [[upto, threshold], ...] / {upto: threshold}
            return value == "dynamic" or isinstance(value, (list, Mapping)) or (
                isinstance(value, (int, float)) and not isinstance(value, bool))
        return True

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return {"bool": "true or false", "int": "a whole number", "number": "a number", "text": "text",
                "list": "a list", "threshold": "a number, 'dynamic' or [[upto, threshold], ...]"}[self.kind]


_MATHS = ("math", "number", "steprar", "steprvr")   # the step rewards pass their params to answer_verifier
_TEXT = ("exact", "ocr")
_STEPS = ("steprar", "steprvr")
_BOXES = ("iou", "map")
_BENCH_TEXT = ("chartqa", "mathvision")   # benchmark scorers as verifiers (mmrl/eval/verifiers.py)

PARAMS: dict[str, ParamDecl] = {
    # shared: format, style, answer extraction (mmrl/rewards/scoring.py, style.py, extract.py)
    "format_mode": ParamDecl("text", (SHARED,), FORMAT_MODES),
    "format_gate": ParamDecl("bool", (SHARED,)),
    "style_gate": ParamDecl("bool", (SHARED,)),
    "require_box": ParamDecl("bool", (SHARED,)),
    "allow_mixed_language": ParamDecl("bool", (SHARED,)),
    "repeat_ngram": ParamDecl("int", (SHARED,)),
    "fallback": ParamDecl("text", (SHARED,), FALLBACKS),
    "boxes": ParamDecl("text", (SHARED,), BOX_MODES),
    "progress": ParamDecl("number", (SHARED,)),
    # math and number (mathverifier.py, number.py)
    "rel_tol": ParamDecl("number", _MATHS),
    "abs_tol": ParamDecl("number", _MATHS),
    "decimal_comma": ParamDecl("text", ("math", *_STEPS), DECIMAL_COMMA_MODES),
    "list_order": ParamDecl("text", ("math", *_STEPS), ORDERS),
    "rename_variables": ParamDecl("bool", ("math", *_STEPS)),
    "relation_answers_set": ParamDecl("bool", ("math", *_STEPS)),
    "integer": ParamDecl("bool", ("number",)),
    "years_exact": ParamDecl("bool", ("number",)),
    # exact and ocr (text.py)
    "case_sensitive": ParamDecl("bool", _TEXT),
    "whitespace": ParamDecl("text", _TEXT, WHITESPACE_MODES),
    "strip_punctuation": ParamDecl("bool", _TEXT),
    "nfkc": ParamDecl("bool", _TEXT),
    # iou and map (detection.py)
    "iou_threshold": ParamDecl("threshold", _BOXES),
    "binary": ParamDecl("bool", ("iou",)),
    "iou_thresholds": ParamDecl("list", ("map",)),
    "size_penalty": ParamDecl("number", ("map",)),
    "mode": ParamDecl("text", ("map",), MAP_MODES),
    "ignore_labels": ParamDecl("bool", ("map",)),
    # StepRAR / StepRVR (steps.py)
    "answer_verifier": ParamDecl("text", _STEPS),
    "alpha": ParamDecl("number", _STEPS),
    "no_answer": ParamDecl("text", _STEPS, NO_ANSWER_MODES),
    "min_steps": ParamDecl("int", _STEPS),
    # benchmark scorers used as verifiers (mmrl/eval/benchmarks/: each checks its own values)
    "question_type": ParamDecl("text", ("mathvista",)),
    "answer_type": ParamDecl("text", ("mathvista",)),
    "precision": ParamDecl("number", ("mathvista",)),
    "answer_tag": ParamDecl("bool", _BENCH_TEXT),
    "lenient": ParamDecl("bool", _BENCH_TEXT),
    "max_relative_change": ParamDecl("number", ("chartqa",)),
}


def valid_params() -> str:
    return ", ".join(f"{k} ({', '.join(d.readers)})" for k, d in sorted(PARAMS.items()))


def check_params(params: Mapping[str, Any], where: str = "--param", open_ended: bool = False) -> None:
    """Refuse an unknown parameter (unless a user verifier is in use: ``open_ended``) or a value
    of the wrong type; ``where`` names the file and key (or the flag) in the message."""
    for key, value in params.items():
        decl = PARAMS.get(key)
        if decl is None:
            if open_ended:
                continue
            raise ConfigError(f"{where}: unknown verifier parameter {key!r}; valid: {valid_params()}")
        if not decl.accepts(value):
            raise ConfigError(f"{where}: verifier parameter {key} must be {decl.describe()}, got {value!r}")


def only_builtin_verifiers() -> bool:
    """Whether every verifier this process knows is mmrl's own (whose parameters are declared
    here); a user verifier, registered or loaded from a file, may read any parameter."""
    from mmrl.rewards.base import VERIFIERS

    return all(str(getattr(VERIFIERS.get(name), "__module__", "")).startswith("mmrl.") for name in VERIFIERS.names())


def param_items(value: Any) -> list[str]:
    """Parameters as a ``KEY=VALUE`` list (JSON values), whatever form a recipe gave them in (a
    mapping, one string, a list): lists concatenate, and the last of a key wins when parsed."""
    import json

    if value is None:
        return []
    if isinstance(value, Mapping):
        return [f"{k}={json.dumps(v)}" for k, v in value.items()]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
