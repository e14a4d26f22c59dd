"""MathVista (Lu et al., 2024): testmini (1,000 with answers) and test (5,141, answers hidden).

Scoring reproduces lupantech/MathVista ``evaluation/extract_answer.py`` and
``evaluation/calculate_score.py``:

extraction, in the official order: an empty response gives ``""``; a multiple-choice response
that *is* one of the choices is taken as is; an integer question's response that ``int()``
parses, and a float question's that ``float()`` parses, are taken as numbers; the quick rule
``The answer is "X".``; then the official code asks GPT. mmrl puts the ``<answer>`` part first
(what mmrl-trained models write) and replaces the GPT step by the judge when one is given, else
by deterministic rules (box, "answer is" phrase, last option letter / number / list / line).

normalisation (``normalize_extracted_answer``): multiple choice takes the first ``(X)`` letter,
maps a valid letter to its option text, and otherwise picks the option at the smallest edit
distance; integer answers are ``str(int(float(x)))`` (truncation); float answers
``str(round(float(x), precision))``; list answers ``str(x)``; anything unparseable is None.
Correct when the normalised prediction ``==`` the reference string (``safe_equal``).
"""
from __future__ import annotations

import re
from typing import Any

from mmrl.eval import extract as ex
from mmrl.eval.benchmark import Benchmark, Judgement, RowError, answer_text, register_benchmark, require
from mmrl.eval.edit_distance import most_similar

QUESTION_TYPES = ("multi_choice", "free_form")
ANSWER_TYPES = ("text", "integer", "float", "list")
_LETTER_IN_PARENS = re.compile(r"\(([a-zA-Z])\)")
_QUICK = re.compile(r'The answer is "(.*)"\.')
_PLACES = {1: "one decimal place", 2: "two decimal places", 3: "three decimal places"}


def option_letters(n: int) -> list[str]:
    return [chr(ord("A") + i) for i in range(n)]


def hint(question_type: str, answer_type: str, precision: int | None) -> str:
    """The hint line of the official query (``evaluation/build_query.py``, solution shot type)."""
    if question_type == "multi_choice":
        return "Hint: Please answer the question and provide the correct option letter, e.g., A, B, C, D, at the end."
    if answer_type == "integer":
        return ("Hint: Please answer the question requiring an integer answer and provide the final value, "
                "e.g., 1, 2, 3, at the end.")
    if answer_type == "float":
        places = _PLACES.get(precision or 1, f"{precision} decimal places")
        example = {1: "1.2, 1.3, 1.4", 2: "1.23, 1.34, 1.45", 3: "1.234, 1.345, 1.456"}.get(precision or 1, "1.2, 1.3, 1.4")
        return (f"Hint: Please answer the question requiring a floating-point number with {places} and provide "
                f"the final value, e.g., {example}, at the end.")
    return ("Hint: Please answer the question requiring a Python list as an answer and provide the final list, "
            "e.g., [1, 2, 3], [1.2, 1.3, 1.4], at the end.")


def as_precision(value: Any) -> int | None:
    """The official JSON stores precision as an int; the Hub's Parquet as a float (1.0)."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError(f"precision must be a whole number, got {value!r}")


def normalize_extracted_answer(extraction: Any, choices: list[str] | None, question_type: str,
                               answer_type: str, precision: int | None) -> str | None:
    """The official normaliser (``calculate_score.py``), rule for rule."""
    if question_type == "multi_choice":
        extraction = extraction.strip() if isinstance(extraction, str) else str(extraction)
        letters = _LETTER_IN_PARENS.findall(extraction)
        if letters:
            extraction = letters[0].upper()
        options = option_letters(len(choices or []))
        if extraction in options:
            return choices[options.index(extraction)]  # type: ignore[index]
        return choices[most_similar(extraction, choices)[0]]  # type: ignore[arg-type,index]
    if answer_type == "integer":
        try:
            return str(int(float(extraction)))
        except (TypeError, ValueError, OverflowError):
            return None
    if answer_type == "float":
        try:
            return str(round(float(extraction), precision))
        except (TypeError, ValueError, OverflowError):
            return None
    if answer_type == "list":
        return None if extraction is None else str(extraction)
    return extraction


def official_quick_rules(response: str, choices: list[str] | None, question_type: str,
                         answer_type: str) -> ex.Extraction | None:
    """The rule steps of ``extract_answer`` that come before its GPT call."""
    if response == "":
        return ex.Extraction("", "empty")
    if question_type == "multi_choice" and choices and response in choices:
        return ex.Extraction(response, "exact_choice")
    if answer_type == "integer":
        try:
            return ex.Extraction(str(int(response)), "integer_parse")
        except ValueError:
            pass
    if answer_type == "float":
        try:
            return ex.Extraction(str(float(response)), "float_parse")
        except ValueError:
            pass
    quick = _QUICK.search(response)
    if quick:
        return ex.Extraction(quick.group(1), "quick_extract")
    return None


def rule_fallback(response: str, choices: list[str] | None, question_type: str, answer_type: str) -> ex.Extraction:
    """Deterministic stand-in for the GPT extraction step."""
    found = ex.rule_based(response)
    if found is not None:
        return found
    if question_type == "multi_choice":
        letter = ex.last_letter(response, len(choices or []))
        if letter is not None:
            return ex.Extraction(letter, "last_letter")
    elif answer_type in ("integer", "float"):
        number = ex.last_number(response)
        if number is not None:
            return ex.Extraction(number, "last_number")
    elif answer_type == "list":
        found_list = ex.last_list(response)
        if found_list is not None:
            return ex.Extraction(found_list, "last_list")
    return ex.extract_answer(response)


@register_benchmark
class MathVista(Benchmark):
    name = "mathvista"
    summary = "MathVista (testmini/test): official extraction order, normaliser and == comparison"
    hub_id = "AI4Math/MathVista"
    default_split = "testmini"
    splits = ("testmini", "test")
    required = ("pid", "question", "question_type", "answer_type")
    image_fields = ("decoded_image", "image")
    breakdowns = ("question_type", "answer_type", "language", "source", "category", "task", "context",
                  "grade", "skills")
    judge_roles = ("extract",)
    scorer = "lupantech/MathVista evaluation/extract_answer.py + calculate_score.py"

    def to_sample(self, row, images, index, split):
        pid = answer_text(require(row, "pid", (str, int)))
        qtype = require(row, "question_type")
        atype = require(row, "answer_type")
        if qtype not in QUESTION_TYPES:
            raise RowError("question_type", f"must be one of {', '.join(QUESTION_TYPES)}, got {qtype!r}")
        if atype not in ANSWER_TYPES:
            raise RowError("answer_type", f"must be one of {', '.join(ANSWER_TYPES)}, got {atype!r}")
        try:
            precision = as_precision(row.get("precision"))
        except ValueError as e:
            raise RowError("precision", str(e)) from None
        choices = row.get("choices") or None
        if qtype == "multi_choice":
            if not isinstance(choices, list) or len(choices) < 2:
                raise RowError("choices", "a multi_choice question needs a list of at least two choices")
            choices = [answer_text(c) for c in choices]
        question = f"Question: {require(row, 'question')}"
        if row.get("unit"):
            question += f" (Unit: {row['unit']})"
        meta = dict(row.get("metadata") or {})
        meta.update(question_type=qtype, answer_type=atype, pid=pid, split=split)
        sample: dict[str, Any] = {
            "id": pid,
            # prompting renders "Choices:\n(A) ..." after the question, as the official query does;
            # the hint goes first, as in the Hub's ``query`` field.
            "question": f"{hint(qtype, atype, precision)}\n{question}",
            "images": images,
            "source": self.name,
            "reward": self.reward_spec(question_type=qtype, answer_type=atype, precision=precision),
            "meta": meta,
        }
        if choices and qtype == "multi_choice":
            sample["choices"] = choices
        if row.get("answer") not in (None, ""):
            sample["answer"] = answer_text(row["answer"])
        return sample

    def score(self, response, sample, params, judge=None):
        qtype = params.get("question_type", "multi_choice" if sample.get("choices") else "free_form")
        atype = params.get("answer_type", "text" if qtype == "multi_choice" else "float")
        precision = as_precision(params.get("precision"))
        choices = sample.get("choices")
        if qtype == "multi_choice" and not choices:
            raise ValueError("a multi_choice sample needs choices")
        calls: list[dict[str, Any]] = []
        found = ex.answer_tag(response) or official_quick_rules(response, choices, qtype, atype)
        if found is None and judge is not None:
            from mmrl.eval.prompts import get_prompt

            query = sample_query(sample)
            call = judge.ask(get_prompt("mathvista/extract"), query=query, response=response)
            calls.append(call)
            found = ex.Extraction(call["reply"], "judge")
        if found is None:
            found = rule_fallback(response, choices, qtype, atype)
        normalised = normalize_extracted_answer(found.text, choices, qtype, atype, precision)
        detail = self._detail(found.text, normalised, choices, qtype)
        answer = sample.get("answer")
        correct = None if answer is None else normalised == answer_text(answer)
        return Judgement(found.text, normalised, correct, found.method, detail, calls)

    @staticmethod
    def _detail(extracted, normalised, choices, qtype) -> str:
        if qtype != "multi_choice":
            return "" if normalised is not None else f"{extracted!r} does not parse as the answer type"
        text = extracted.strip() if isinstance(extracted, str) else str(extracted)
        letters = _LETTER_IN_PARENS.findall(text)
        letter = letters[0].upper() if letters else text
        options = option_letters(len(choices))
        if letter in options:
            return f"option {letter}"
        index, distance = most_similar(letter, choices)
        return f"no option letter; closest option {options[index]} at edit distance {distance}"


def sample_query(sample: dict[str, Any]) -> str:
    """The question as the model saw it (hint, question, choices): what the judge is shown."""
    from mmrl.prompting import render_choices

    return render_choices(sample.get("question", ""), sample.get("choices"))
