"""MATH-Vision (Wang et al., 2024): test (3,040) and testmini (304) competition problems.

Rule scorer of mathllm/MATH-V ``evaluation/evaluate.py`` and ``evaluation/utils.py``, reproduced:
the answer is cut out of the response (option-letter endings, "is <number>", the phrases "the
final answer is" / "the answer is" / "the correct answer is" / "the answer should be", or the
last ``\\boxed{}``), cleaned by ``find_math_answer`` (``_strip_string``: units, ``\\left``,
degrees, ``0.5 -> \\frac{1}{2}``, ``a/b -> \\frac{a}{b}`` ...), and compared with ``is_equal``
against both the reference letter and the option text: lower-cased string equality, tuple
equality, then numeric equality to two decimals. With an ``<answer>`` part, its content replaces
the response-level cuts. Breakdowns: subject and level.
"""
from __future__ import annotations

import re

from mmrl.eval import extract as ex
from mmrl.eval.benchmark import Benchmark, Judgement, RowError, answer_text, register_benchmark, require
from mmrl.eval.latex_value import latex_value

_IMAGE_TAG = re.compile(r"<image\d*>")
_FLAGS = ("the final answer is", "the answer is", "the correct answer is", "the answer should be")


def is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _rounded(text: str) -> float | None:
    value = latex_value(text)
    return None if value is None else round(value, 2)


def eval_tuple(s: str) -> str:
    """``(2*3, 5+2)`` -> ``(6,7)``: each element's value rounded to 2 places; else unchanged."""
    if len(s) < 2:
        return s
    parts = s[1:-1].split(",")
    if len(parts) <= 1 or (s[0], s[-1]) not in (("(", ")"), ("[", "]")):
        return s
    out = []
    for part in parts:
        if "infty" in part or part in ("a", "-a"):
            out.append(part)
            continue
        value = _rounded(part)
        if value is None:
            return s
        out.append(str(value))
    return f"{s[0]}{','.join(out)}{s[-1]}"


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
    a, b = _rounded(gt_asw), _rounded(asw)
    return a is not None and a == b


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


def find_math_answer(s: str) -> str:
    """The official cleaner: the last ``oxed{...}`` (greedy), then value after ``=``/``\\approx``."""
    s = s.lower().replace("{}", "")
    found = re.findall(r"oxed{(.*)}", s, flags=re.S)
    ans = found[-1] if found else s
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
    out = find_math_answer(model_answer)
    for c in "abcde":
        out = out.replace(f"({c})", c).replace("{" + c + "}", c)
    return out.rstrip(".").lstrip(":").strip()


@register_benchmark
class MathVision(Benchmark):
    name = "mathvision"
    summary = "MATH-Vision (test/testmini): the official rule scorer (find_math_answer + is_equal)"
    hub_id = "MathLLMs/MathVision"
    default_split = "testmini"
    splits = ("testmini", "test")
    required = ("id", "question", "answer")
    image_fields = ("decoded_image", "image")
    breakdowns = ("subject", "level")
    scorer = "mathllm/MATH-V evaluation/evaluate.py + utils.py (rules only)"

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
        tagged = ex.answer_tag(response)
        raw, rule = (tagged.text, tagged.method) if tagged is not None else cut_answer(response)
        model_answer = clean(raw)
        answer = sample.get("answer")
        if answer is None:
            return Judgement(raw, model_answer, None, rule)
        gt = answer_text(answer)
        choices = sample.get("choices") or []
        gt_value = choices[ord(gt) - ord("A")] if choices and len(gt) == 1 and ord(gt) - ord("A") < len(choices) else ""
        by_letter = is_equal(gt, model_answer)
        by_value = not by_letter and is_equal(gt_value, model_answer)
        detail = "matches the reference" if by_letter else ("matches the option text" if by_value else "")
        return Judgement(raw, model_answer, by_letter or by_value, rule, detail)
