"""MathVerse: how far mmrl's judge-free score is from the judged one, on a file of outputs.

MathVerse's official scoring (ZrrSkywalker/MathVerse ``evaluation/``) is two GPT calls:
``extract_answer_s1.py`` asks GPT for the answer in each response (there is no rule path), and
``score_answer_s2.py`` asks GPT whether that extraction matches the reference (0/1), or, with
``--quick_match``, compares the two strings with ``==``. Without a judge mmrl replaces the first
call by rules (the ``<answer>`` part, a box, an "answer is" phrase, the option letter, the last
line) and reproduces only the second step's quick match. This script scores a MathVerse output
file (a JSON list of records with ``answer``, ``question_type``, ``question`` or ``query_cot``
and the response in ``model_answer``, as the official scripts read it) with that judge-free
path and, where the file also holds the official pipeline's ``extraction`` and ``judgement``
(what ``score_answer_s2.py`` writes), compares verdict by verdict.

    python benchmarks/mathverse_judge_gap.py --outputs judged_output.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def judge_free(record: dict) -> tuple[str | None, bool]:
    """mmrl's judge-free extraction and verdict for one official output record."""
    from mmrl.eval.benchmarks.mathverse import MathVerse

    sample = {"answer": str(record["answer"]), "question": record.get("query_cot") or record.get("question", "")}
    judgement = MathVerse().score(record.get("model_answer") or "", sample,
                                  {"question_type": record.get("question_type", "free-form")})
    return judgement.extracted, bool(judgement.correct)


def compare(records: list[dict]) -> dict:
    """Judge-free verdicts, and the judged ones where the records carry them."""
    rows = []
    for record in records:
        extracted, ok = judge_free(record)
        rows.append({"sample_index": record.get("sample_index"), "mmrl_extraction": extracted, "mmrl": ok,
                     "judged": None if "judgement" not in record else bool(int(record["judgement"])),
                     "gpt_extraction": record.get("extraction")})
    judged = [r for r in rows if r["judged"] is not None]
    return {
        "n": len(rows),
        "judge_free_correct": sum(r["mmrl"] for r in rows),
        "judged_n": len(judged),
        "judged_correct": sum(r["judged"] for r in judged),
        "agree": sum(r["mmrl"] == r["judged"] for r in judged),
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outputs", type=Path, required=True, help="a MathVerse output JSON (list of records)")
    args = ap.parse_args()
    result = compare(json.loads(args.outputs.read_text(encoding="utf-8")))
    n = result["n"]
    print(f"judge-free (rules + quick match): {result['judge_free_correct']}/{n}")
    if result["judged_n"]:
        m = result["judged_n"]
        print(f"judged (GPT extraction + GPT match): {result['judged_correct']}/{m}; "
              f"verdicts agree on {result['agree']}/{m}")
    else:
        print("the file holds no official judgements ('judgement'): only the judge-free verdicts are shown")
    for row in result["rows"]:
        judged = "" if row["judged"] is None else f"  judged {row['judged']}"
        mark = "" if row["judged"] is None or row["judged"] == row["mmrl"] else "  <- differs"
        print(f"  {row['sample_index']}: mmrl {row['mmrl']!s:5} extraction {row['mmrl_extraction']!r:.70}{judged}{mark}")


if __name__ == "__main__":
    main()
