"""MathVerse (Zhang et al., 2024): testmini, 3,940 items = 788 problems x 5 problem versions.

Official scoring (ZrrSkywalker/MathVerse ``evaluation/``) is two GPT steps: GPT extracts the
answer (``extract_answer_s1.py``, which has no rule path), then GPT judges it against the
reference (``score_answer_s2.py``), whose ``--quick_match`` option replaces that judgement by the
exact comparison ``answer == extraction``. Without a judge mmrl reproduces only that quick match,
on a deterministic extraction of its own (``<answer>`` part, box, "answer is" phrase; for
multiple choice the option letter; else the last line) instead of GPT's: no equivalence is judged,
so ``14 cm`` or a closing sentence does not match ``14``, and the judge-free number is usually
below the judged one and not comparable with published MathVerse results. With a judge, both GPT
steps go to the judge with versioned prompts. Breakdowns: problem version, subject and subfield,
as the paper reports.
"""
from __future__ import annotations

import re
from typing import Any

from mmrl.eval import extract as ex
from mmrl.eval.benchmark import Benchmark, Judgement, answer_text, register_benchmark, require

_OPTION_LINE = re.compile(r"(?m)^\s*\(?([A-H])\)?\s*[:.)]")
_LEADING_LETTER = re.compile(r"^\(?([A-H])\)?(?:\s*[:.)]|\s|$)")


def option_count(question: str) -> int:
    """How many options a question lists (``A:...`` / ``(B) ...`` lines); 4 when none are found."""
    letters = _OPTION_LINE.findall(question)
    return max((ord(c) - ord("A") + 1 for c in letters), default=4)


def choice_letter(text: str, n: int) -> str | None:
    """``B``, ``(B)``, ``B: 2\\sqrt{3}`` -> ``B``; None when the text does not start with an option."""
    m = _LEADING_LETTER.match(text.strip())
    if m and ord(m.group(1)) - ord("A") < n:
        return m.group(1)
    return None


def rule_extract(response: str, question: str, multi_choice: bool) -> ex.Extraction:
    found = ex.rule_based(response)
    if multi_choice:
        n = option_count(question)
        if found is not None and found.text:
            letter = choice_letter(found.text, n)
            return ex.Extraction(letter, found.method) if letter else found
        letter = ex.last_letter(response, n)
        if letter is not None:
            return ex.Extraction(letter, "last_letter")
    if found is not None:
        return found
    return ex.extract_answer(response)


@register_benchmark
class MathVerse(Benchmark):
    name = "mathverse"
    summary = ("MathVerse (testmini): without a judge, rule extraction + the official quick match only "
               "(not comparable with judged results); --judge-url runs the official GPT extraction and judging")
    hub_id = "AI4Math/MathVerse"
    hub_config = "testmini"
    default_split = "testmini"
    splits = ("testmini",)
    required = ("sample_index", "question", "answer", "question_type")
    image_fields = ("image",)
    breakdowns = ("problem_version", "subject", "subfield")
    judge_roles = ("extract", "match")
    scorer = ("ZrrSkywalker/MathVerse evaluation/score_answer_s2.py --quick_match on a rule extraction "
              "(the GPT extraction and GPT judging only with a judge)")

    def to_sample(self, row, images, index, split):
        sid = answer_text(require(row, "sample_index", (str, int)))
        qtype = require(row, "question_type")
        meta = dict(row.get("metadata") or {})
        meta.update(problem_version=row.get("problem_version"), problem_index=row.get("problem_index"),
                    question_type=qtype, split=split)
        # the official CoT query when the row has it (it carries the answer-format instruction)
        question = row.get("query_cot") or row.get("query_wo") or require(row, "question")
        return {
            "id": sid,
            "question": question,
            "images": images,
            "answer": answer_text(require(row, "answer", (str, int, float))),
            "source": self.name,
            "reward": self.reward_spec(question_type=qtype),
            "meta": {k: v for k, v in meta.items() if v is not None},
        }

    def score(self, response, sample, params, judge=None):
        multi = params.get("question_type", "free-form") == "multi-choice"
        answer = sample.get("answer")
        question = sample.get("question", "")
        if judge is None:
            found = rule_extract(response, question, multi)
            extraction = (found.text or "").strip()
            correct = None if answer is None else answer_text(answer) == extraction
            return Judgement(found.text, extraction, correct, found.method, "quick match (==)")
        from mmrl.eval.prompts import get_prompt

        extract_call = judge.ask(get_prompt("mathverse/extract"), response=response)
        extraction = extract_call["reply"].replace("Extracted Answer: ", "").replace("Extracted answer: ", "").strip()
        calls: list[dict[str, Any]] = [extract_call]
        if answer is None:
            return Judgement(extraction, extraction, None, "judge", "", calls)
        match_call = judge.ask(get_prompt("mathverse/match"), question=question, answer=answer_text(answer),
                               extraction=extraction)
        calls.append(match_call)
        verdict = match_call["reply"].replace("Judgement:", "").strip()
        if verdict not in ("0", "1"):
            return Judgement(extraction, extraction, False, "judge", f"judge verdict {verdict!r} is not 0 or 1", calls)
        return Judgement(extraction, extraction, verdict == "1", "judge", f"judge verdict {verdict}", calls)
