"""MATH-Vision (Wang et al., 2024): test (3,040) and testmini (304) competition problems.

The rule scorer of mathllm/MATH-V ``evaluation/evaluate.py`` and ``evaluation/utils.py``,
reproduced verdict for verdict, quirks included (``docs/eval.md`` lists them). The scorer
receives the response as the official script does: the raw response, or, when the response has
an ``<answer>`` part (mmrl's default instruction asks for one), that part (``answer_tag: false``
always takes the raw response). Then, as the official script: the answer is cut out of the
response (option-letter endings, the number after the last "is ", the phrases "the final answer
is" / "the answer is" / "the correct answer is" / "the answer should be", or the last
``\\boxed{}`` taken greedily up to the last ``}``), cleaned by ``find_math_answer``
(``_strip_string``: units, ``\\left``, degrees, ``0.5 -> \\frac{1}{2}``, ``a/b -> \\frac{a}{b}``
...), and compared with ``is_equal`` against both the reference letter and the option text:
lower-cased string equality, tuple equality after rounding each element, then equality of the
two values as latex2sympy and Python's ``eval`` compute them, rounded to 2 decimals (mmrl reads
them with its own bounded parser, ``mmrl.eval.latex_value.official_number``, never running the
text).

``lenient: true`` (or the benchmark ``mathvision-lenient``) keeps every official acceptance and
also accepts what the official rejects only through parser defects: a degree sign (``60°``,
``60^\\circ``) on either side, ``\\frac12``, ``6e1``, unicode ``π``/``√``/``×``, a reference the
official parser cannot read, tuples equal element by element. Breakdowns: subject and level.
"""
from __future__ import annotations

import re

from mmrl.eval.benchmark import Benchmark, Judgement, RowError, answer_text, register_benchmark, require
from mmrl.eval.latex_value import latex_value, official_number
from mmrl.rewards.extract import ANSWER_CLOSE, ANSWER_OPEN, final_region, find_tagged

_IMAGE_TAG = re.compile(r"<image\d*>")
_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")
_DEGREES = ("^{\\circ}", "^\\circ", "°", "\\degree")
MAX_TUPLE_ELEMENTS = 1000  # a longer "tuple" is compared as text: bounded work on hostile responses


def is_number(s: str) -> bool:
    """Python's ``float()`` accepts it (so ``nan``, ``1e5``, `` 12 `` and ``1_000`` are numbers)."""
    try:
        float(s)
        return True
    except ValueError:
        return False


def _tuple_element(part: str) -> str | None:
    """One element's official value rounded to 2 places and printed: ``6``, ``0.5``, ``2.0``."""
    value = official_number(part)
    return None if value is None else str(round(value, 2))


def eval_tuple(s: str) -> str:
    """``(2*3, 5+2)`` -> ``(6,7)``: each element's official value rounded to 2 places (an int
    stays an int, ``4/2`` prints ``2.0``); ``infty``, ``a`` and ``-a`` kept; else ``s`` unchanged
    (also past ``MAX_TUPLE_ELEMENTS``, where the official would go on evaluating)."""
    parts = s[1:-1].split(",", MAX_TUPLE_ELEMENTS)
    if len(parts) > MAX_TUPLE_ELEMENTS:
        return s
    if len(s) < 2 or len(parts) <= 1 or (s[0], s[-1]) not in (("(", ")"), ("[", "]")):
        return s
    out = []
    for part in parts:
        if "infty" in part or part in ("a", "-a"):
            out.append(part)
            continue
        element = _tuple_element(part)
        if element is None:
            return s
        out.append(element)
    return f"{s[0]}{','.join(out)}{s[-1]}"


def _same_rounded_value(a: str, b: str) -> bool:
    x, y = official_number(a), official_number(b)
    return x is not None and y is not None and round(x, 2) == round(y, 2)


def is_equal(asw: str, gt_asw: str) -> bool:
    """The official equivalence: lower-cased equality, tuple equality, value equality to 2 places."""
    asw, gt_asw = asw.lower(), gt_asw.lower()
    if asw.replace(" ", "") == "" or gt_asw.replace(" ", "") == "":
        return False
    if gt_asw.strip() == asw.strip():
        return True
    asw, gt_asw = eval_tuple(asw), eval_tuple(gt_asw)
    if gt_asw == asw:
        return True
    return _same_rounded_value(gt_asw, asw)


def _without_degrees(text: str) -> str:
    for mark in _DEGREES:
        text = text.replace(mark, "")
    return text.strip()


def _lenient_value(text: str) -> float | None:
    value = latex_value(text)
    return None if value is None else round(value, 2)


def _lenient_elements(text: str) -> list[float | str] | None:
    if len(text) < 2 or (text[0], text[-1]) not in (("(", ")"), ("[", "]")) or "," not in text:
        return None
    if text.count(",") >= MAX_TUPLE_ELEMENTS:
        return None
    out: list[float | str] = []
    for part in text[1:-1].split(","):
        value = _lenient_value(part)
        out.append(part.strip() if value is None else value)
    return out


def lenient_equal(asw: str, gt_asw: str) -> bool:
    """What the lenient mode adds: equality once degree signs are dropped, values read by mmrl's
    own parser (``\\frac12``, ``6e1``, unicode ``π``), tuples compared element by element."""
    asw, gt_asw = _without_degrees(asw.lower()), _without_degrees(gt_asw.lower())
    if not asw or not gt_asw:
        return False
    if asw == gt_asw or is_equal(asw, gt_asw):
        return True
    a, b = _lenient_value(asw), _lenient_value(gt_asw)
    if a is not None and a == b:
        return True
    elements = _lenient_elements(asw)
    return elements is not None and elements == _lenient_elements(gt_asw)


def _fix_fracs(string: str) -> str:
    parts = string.split("\\frac")
    out = parts[0]
    for sub in parts[1:]:
        out += "\\frac"
        if sub[:1] == "{":
            out += sub
            continue
        if len(sub) < 2:
            return string
        a, b, rest = sub[0], sub[1], sub[2:]
        out += ("{" + a + "}{" + b + "}" + rest) if b != "{" else ("{" + a + "}" + b + rest)
    return out


def _fix_a_slash_b(string: str) -> str:
    if len(string.split("/")) != 2:
        return string
    a, b = string.split("/")
    try:
        ai, bi = int(a), int(b)
    except ValueError:
        return string
    return "\\frac{" + str(ai) + "}{" + str(bi) + "}" if string == f"{ai}/{bi}" else string


def _fix_sqrt(string: str) -> str:
    if "\\sqrt" not in string:
        return string
    parts = string.split("\\sqrt")
    out = parts[0]
    for part in parts[1:]:
        out += ("\\sqrt{" + part[0] + "}" + part[1:]) if part and part[0] != "{" else ("\\sqrt" + part)
    return out


def strip_string(string: str) -> str:
    """``_strip_string`` of the official utils, step for step (including its quirks)."""
    string = string.replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    string = string.replace("tfrac", "frac").replace("dfrac", "frac")
    string = string.replace("\\left", "").replace("\\right", "")
    string = string.replace("^{\\circ}", "").replace("^\\circ", "")
    string = string.replace("\\$", "").replace("$", "")
    string = string.split("\\text{ ")[0]
    string = string.replace("\\%", "").replace("\\%", "")
    string = string.replace(" .", " 0.").replace("{.", "{0.")
    if not string:
        return string
    if string[0] == ".":
        string = "0" + string
    if len(string.split("=")) == 2:
        string = string.split("=")[-1]
    if len(string.split("\\approx")) == 2:
        string = string.split("\\approx")[-1]
    if "sqrt" in string:
        string = _fix_sqrt(string)
    string = string.replace(" ", "")
    if "sqrt" in string:  # the official code fixes fractions only here
        string = _fix_fracs(string)
    if string == "0.5":
        string = "\\frac{1}{2}"
    return _fix_a_slash_b(string)


def greedy_box(s: str) -> str | None:
    """What the official ``re.findall('oxed{(.*)}', s, re.S)[-1]`` returns, found in linear time:
    from the first ``oxed{`` to the last ``}`` (a greedy match takes all of it, so there is only
    one); None without a ``}`` after the first ``oxed{``. The regex itself backtracks over every
    ``oxed{`` when no ``}`` follows, quadratic on a hostile response."""
    start, end = s.find("oxed{"), s.rfind("}")
    return s[start + 5:end] if start >= 0 and end >= start + 5 else None


def find_math_answer(s: str) -> str:
    """The official cleaner: the last ``oxed{...}`` (greedy), then value after ``=``/``\\approx``."""
    s = s.lower().replace("{}", "")
    boxed = greedy_box(s)
    ans = s if boxed is None else boxed
    if ans.find("}") != -1 and (ans.find("{") == -1 or ans.find("}") < ans.find("{")):
        ans = ans.split("}")[0]
    ans = ans.split("=")[-1].split("\\approx")[-1]
    ans = ans.replace(" ", "").replace("\\,", "").replace("∞", "\\infty")
    ans = ans.replace("+\\infty", "\\infty").replace("\\\\", "\\").replace("\n", "")
    ans = ans.replace("\\text", "").replace("\\mbox", "").replace("bmatrix", "pmatrix")
    ans = ans.replace("\\left", "").replace("\\right", "").replace("^{\\circ}", "")
    ans = ans.replace("^\\circ", "").replace("{m}^3", "").replace("m^3", "")
    ans = ans.replace("{units}", "").replace("units", "").replace("{km}", "").replace("km", "")
    return strip_string(ans)


def cut_answer(response: str) -> tuple[str, str]:
    """The response-level cuts of ``evaluate.py`` before ``find_math_answer``; returns (text, rule)."""
    model_answer, rule = response.strip(), "response"
    for c in "ABCDE":
        if (model_answer.endswith(f" {c}.") or model_answer.endswith(f" ({c}).") or model_answer.startswith(f"{c}\n")
                or model_answer.startswith(f"({c})\n") or model_answer.startswith(f"({c}) {c}\n")):
            model_answer, rule = c, "option_letter"
    tail = model_answer.split("is ")[-1].rstrip(".")
    if is_number(tail):
        model_answer, rule = tail, "is_number"
    if "oxed{" not in model_answer:
        for flag in _FLAGS:
            for variant in (flag, flag.replace("the", "The")):
                raw = model_answer
                model_answer = model_answer.split(variant)[-1].strip()
                if variant in raw:
                    model_answer, rule = model_answer.split("\n")[0].split(". ")[0], "answer_phrase"
    elif model_answer.count("oxed{") > 1:
        model_answer = "\\boxed{" + model_answer.split("oxed{")[-1]
    if "oxed{" in model_answer:
        rule = "boxed"
    return model_answer, rule


def clean(model_answer: str) -> str:
    """``find_math_answer``, then the official ``(a)``/``{a}`` -> ``a`` replacements (all the
    ``(x)`` forms first, then the ``{x}`` forms) and the edge trims."""
    out = find_math_answer(model_answer)
    for c in "abcde":
        out = out.replace(f"({c})", c)
    for c in "abcde":
        out = out.replace("{" + c + "}", c)
    return out.rstrip(".").lstrip(":").strip()


def official_input(response: str, params: dict) -> tuple[str, bool]:
    """What the official script would receive: the ``<answer>`` part when the response has one
    (and ``answer_tag`` is not false), else the raw response; and whether the part was used."""
    if params.get("answer_tag", True) is not False:
        tagged = find_tagged(final_region(response), ANSWER_OPEN, ANSWER_CLOSE, allow_unclosed=True)
        if tagged:
            return tagged[-1], True
    return response, False


def option_text(gt: str, choices: list[str]) -> str:
    """The official ``gt_answer_value``: the text of the reference letter's option, else ``''``."""
    if choices and len(gt) == 1 and 0 <= ord(gt) - ord("A") < len(choices):
        return choices[ord(gt) - ord("A")]
    return ""


def verdict(model_answer: str, gt: str, gt_value: str, lenient: bool) -> tuple[bool, str]:
    """The official ``is_equal(gt, answer) or is_equal(gt_value, answer)``, then the lenient
    additions when asked; with the reason for the audit."""
    if is_equal(gt, model_answer):
        return True, "matches the reference"
    if is_equal(gt_value, model_answer):
        return True, "matches the option text"
    if lenient and lenient_equal(model_answer, gt):
        return True, "matches the reference (lenient)"
    if lenient and gt_value and lenient_equal(model_answer, gt_value):
        return True, "matches the option text (lenient)"
    return False, "no match (lenient)" if lenient else ""


@register_benchmark
class MathVision(Benchmark):
    name = "mathvision"
    summary = "MATH-Vision (test/testmini): the official rule scorer (find_math_answer + is_equal), quirks kept"
    hub_id = "MathLLMs/MathVision"
    default_split = "testmini"
    splits = ("testmini", "test")
    required = ("id", "question", "answer")
    image_fields = ("decoded_image", "image")
    breakdowns = ("subject", "level")
    scorer = "mathllm/MATH-V evaluation/evaluate.py + utils.py (rules only), official mode"

    def to_sample(self, row, images, index, split):
        question = require(row, "question")
        tags = len(_IMAGE_TAG.findall(question))
        question = _IMAGE_TAG.sub("<image>", question) if tags == len(images) else _IMAGE_TAG.sub("", question).strip()
        options = row.get("options") or []
        if not isinstance(options, list) or any(not isinstance(o, (str, int, float)) for o in options):
            raise RowError("options", "must be a list of option texts")
        answer = answer_text(require(row, "answer", (str, int, float)))
        sample = {
            "id": answer_text(require(row, "id", (str, int))),
            "question": question,
            "images": images,
            "answer": answer,
            "source": self.name,
            "reward": self.reward_spec(),
            "meta": {"subject": row.get("subject"), "level": row.get("level"), "split": split},
        }
        if len(options) >= 2:
            sample["choices"] = [answer_text(o) for o in options]
            if not (len(answer) == 1 and 0 <= ord(answer) - ord("A") < len(options)):
                raise RowError("answer", f"a question with {len(options)} options needs an option letter, got {answer!r}")
        return sample

    def score(self, response, sample, params, judge=None):
        text, tagged = official_input(response, params)
        raw, rule = cut_answer(text)
        if tagged and rule == "response":
            rule = "answer_tag"
        model_answer = clean(raw)
        answer = sample.get("answer")
        if answer is None:
            return Judgement(raw, model_answer, None, rule)
        gt = answer_text(answer)
        lenient = bool(params.get("lenient", self.lenient))
        correct, detail = verdict(model_answer, gt, option_text(gt, sample.get("choices") or []), lenient)
        return Judgement(raw, model_answer, correct, rule, detail)


@register_benchmark
class MathVisionLenient(MathVision):
    name = "mathvision-lenient"
    summary = "MATH-Vision with the official rule scorer, lenient mode (parser defects that reject fixed)"
    scorer = ("mathllm/MATH-V evaluation/evaluate.py + utils.py (rules only), lenient mode: also accepts degree "
              "signs, \\frac12, 6e1, unicode math, references the official parser cannot read")
    lenient = True
    verifier = MathVision.name
    is_verifier = False  # the verifier is "mathvision" with params {"lenient": true}

