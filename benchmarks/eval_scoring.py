"""MathVista scoring: mmrl's official-rule scorer vs math-verify (the judge-free scorer TRL and
open-r1 use), side by side on a hand-labelled casebook.

Each case is an extracted answer (what the official normaliser receives) with the verdict of the
official rules (lupantech/MathVista calculate_score.py), worked out by hand: integer truncation,
float rounding to the item's precision, list strings compared verbatim, option letters mapped to
choices, the edit-distance fallback. mmrl scores ``<answer>EXTRACTION</answer>``; math-verify
scores ``verify(parse(answer), parse(extraction))``. The table gives agreement with the official
verdict per rule family and the scoring throughput of each.

    python benchmarks/eval_scoring.py [--repeat 200]
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict

MC = ["3/11", "8/11", "6/11", "3/5"]
CMP = ["larger than", "equal to", "smaller than"]
YN = ["Yes", "No"]

# (family, question_type, answer_type, precision, choices, answer, extraction, official verdict)
CASES = [
    ("integer", "free_form", "integer", None, None, "3", "3", True),
    ("integer", "free_form", "integer", None, None, "3", "3.0", True),
    ("integer", "free_form", "integer", None, None, "3", "3.7", True),  # int(float()) truncates
    ("integer", "free_form", "integer", None, None, "3", "2.9999", False),
    ("integer", "free_form", "integer", None, None, "-3", "-3.5", True),
    ("integer", "free_form", "integer", None, None, "3", "4", False),
    ("integer", "free_form", "integer", None, None, "3", "three", False),
    ("float", "free_form", "float", 1, None, "1.5", "1.5", True),
    ("float", "free_form", "float", 1, None, "1.5", "1.50", True),
    ("float", "free_form", "float", 1, None, "1.5", "1.46", True),  # round(1.46, 1) == 1.5
    ("float", "free_form", "float", 1, None, "1.5", "1.54", True),
    ("float", "free_form", "float", 1, None, "1.5", "1.56", False),
    ("float", "free_form", "float", 1, None, "1.5", "3/2", False),  # float("3/2") fails
    ("float", "free_form", "float", 2, None, "0.25", "0.25", True),
    ("float", "free_form", "float", 2, None, "0.25", "0.254", True),
    ("float", "free_form", "float", 2, None, "0.25", "1/4", False),
    ("float", "free_form", "float", 2, None, "0.25", "25%", False),
    ("list", "free_form", "list", None, None, "[2007, 2008]", "[2007, 2008]", True),
    ("list", "free_form", "list", None, None, "[2007, 2008]", "[2007,2008]", False),  # verbatim string
    ("list", "free_form", "list", None, None, "[2007, 2008]", "2007, 2008", False),
    ("list", "free_form", "list", None, None, "[2007, 2008]", "[2008, 2007]", False),
    ("choice", "multi_choice", "text", None, MC, "8/11", "B", True),
    ("choice", "multi_choice", "text", None, MC, "8/11", "(B)", True),
    ("choice", "multi_choice", "text", None, MC, "8/11", "(b) 8/11", True),
    ("choice", "multi_choice", "text", None, MC, "8/11", "A", False),
    ("choice", "multi_choice", "text", None, MC, "8/11", "(A) 8/11", False),  # the letter wins
    ("choice", "multi_choice", "text", None, CMP, "equal to", "B", True),
    ("choice", "multi_choice", "text", None, CMP, "equal to", "C", False),
    ("choice", "multi_choice", "text", None, YN, "No", "No", True),
    ("choice", "multi_choice", "text", None, YN, "No", "Yes", False),
    ("edit distance", "multi_choice", "text", None, MC, "8/11", "8/11", True),
    ("edit distance", "multi_choice", "text", None, MC, "8/11", "8/12", True),
    ("edit distance", "multi_choice", "text", None, MC, "8/11", "b", False),  # closest: "3/5"
    ("edit distance", "multi_choice", "text", None, CMP, "equal to", "equal", True),
    ("edit distance", "multi_choice", "text", None, CMP, "equal to", "Equal to", True),
    ("edit distance", "multi_choice", "text", None, CMP, "equal to", "smaller", False),
    ("edit distance", "multi_choice", "text", None, YN, "No", "no", True),
]


def mmrl_scorer():
    from mmrl.eval.verifiers import BENCHMARK_VERIFIERS  # noqa: F401 - registers "mathvista"
    from mmrl.rewards.base import VERIFIERS

    verify = VERIFIERS.get("mathvista")

    def score(case) -> bool:
        _, qtype, atype, precision, choices, answer, extraction, _ = case
        sample = {"answer": answer, **({"choices": choices} if choices else {})}
        params = {"question_type": qtype, "answer_type": atype, "precision": precision}
        return verify(f"<answer>{extraction}</answer>", sample, params).accuracy == 1.0

    return score


def math_verify_scorer():
    from math_verify import parse, verify

    def score(case) -> bool:
        answer, extraction = case[5], case[6]
        return bool(verify(parse(answer), parse(extraction)))

    return score


def measure(score, repeat: int) -> tuple[dict[str, list[int]], float]:
    per_family: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in CASES:
        per_family[case[0]][0] += score(case) == case[7]
        per_family[case[0]][1] += 1
    start = time.perf_counter()
    for _ in range(repeat):
        for case in CASES:
            score(case)
    return per_family, repeat * len(CASES) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=200, help="passes over the casebook for the timing")
    args = ap.parse_args()
    results = {"mmrl mathvista": measure(mmrl_scorer(), args.repeat),
               "math-verify": measure(math_verify_scorer(), args.repeat)}
    families = list(dict.fromkeys(c[0] for c in CASES))
    names = list(results)
    print(f"{'rule family':<15}" + "".join(f"{n + ' agrees':>22}" for n in names))
    for fam in families:
        cells = [results[n][0][fam] for n in names]
        print(f"{fam:<15}" + "".join(f"{f'{c}/{t}':>22}" for c, t in cells))
    totals = [sum(v[0] for v in results[n][0].values()) for n in names]
    print(f"{'all':<15}" + "".join(f"{f'{c}/{len(CASES)} ({100 * c / len(CASES):.0f}%)':>22}" for c in totals))
    print(f"{'items/s':<15}" + "".join(f"{results[n][1]:>22,.0f}" for n in names))


if __name__ == "__main__":
    main()
