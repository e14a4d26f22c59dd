"""MATH-Vision: does mmrl's ``mathvision`` scorer give the official verdicts?

Two checks. The casebook: hand-written responses, each with the verdict that mathllm/MATH-V's
``evaluation/evaluate.py`` + ``utils.py`` gives it, worked out from the official rules (the
response-level cuts, ``find_math_answer``, ``is_equal`` with latex2sympy and rounding to 2
places), grouped by the kind of rule that decides it; the lenient mode's verdict beside it. And,
with ``--outputs``, the published model outputs of the MATH-V repository re-scored: a local copy
of its ``outputs/`` folder (``*.jsonl`` rows with ``id``, ``response``, ``correct``) and of
``data/test.jsonl`` (``id``, ``answer``, ``options``), every verdict compared with the published
``correct`` and every difference listed.

    python benchmarks/mathvision_fidelity.py
    python benchmarks/mathvision_fidelity.py --outputs ~/src/MATH-V   # the repository's root
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

ABCDE = ["A", "B", "C", "D", "E"]
DAYS = ["Wednesday", "Thursday", "Friday", "Tuesday", "Sunday"]
ANGLES = ["30°", "45°", "60°", "90°", "120°"]

# (kind, response, gold answer, options, official verdict, lenient verdict)
CASES = [
    # 1. raw responses: the official cuts find the answer in a worked solution
    ("raw response", "Each row adds 10, so 50 + 10 = 60.\n\n\\boxed{60}", "60", [], True, True),
    ("raw response", "We get 2 + 3 = 5. The answer is 5.", "5", [], True, True),
    ("raw response", "Adding the four digits gives 10. So the answer is 10 and nothing else.", "10", [], False, False),
    ("raw response", "Therefore the final answer is 12. We checked it twice.", "12", [], True, True),
    ("raw response", "The two plums weigh as much as one apple, so the answer should be 3", "3", [], True, True),
    ("raw response", "Counting the edges, the total is 14.", "14", [], True, True),
    ("raw response", "Counting the edges, the total is 14 cm.", "14", [], False, False),
    ("raw response", "The shaded part is half: \\boxed{\\frac{1}{2}}", "\\frac{1}{2}", [], True, True),
    ("raw response", "The ratio is \\boxed{\\frac{\\sqrt{3}}{2}} in the end.", "\\frac{\\sqrt{3}}{2}", [], True, True),
    ("raw response", "First \\boxed{5} pieces, then \\boxed{4} cuts.", "4", [], True, True),
    ("raw response", "Only this one differs.\nThe answer is (E).", "E", ABCDE, True, True),
    ("raw response", "Only figure C is not connected, so the answer is C.", "C", ABCDE, True, True),
    ("raw response", "The shape is the one labelled (D).", "D", ABCDE, True, True),
    ("raw response", "B\nBecause the kite string is longest there.", "B", ABCDE, True, True),
    ("raw response", "Liepa was born on a Wednesday.\n\n\\boxed{(A)}", "A", DAYS, True, True),
    ("raw response", "Counting back 8 days from Thursday gives \\boxed{Wednesday}", "A", DAYS, True, True),
    ("raw response", "Counting back 8 days from Thursday gives \\boxed{\\text{Wednesday}}", "A", DAYS, False, False),
    ("raw response", "So the current time is \\boxed{\\text{(E) 9:30}}.", "E", ABCDE, False, False),
    ("raw response", "I cannot see the picture, so I cannot answer.", "6", [], False, False),
    ("raw response", "The ant ends on the parrot: $\\boxed{\\text{parrot}}$.", "A", ABCDE, False, False),
    # 2. numeric tolerance: both sides rounded to 2 decimals, nothing else
    ("tolerance", "\\boxed{3.14}", "\\pi", [], True, True),
    ("tolerance", "\\boxed{3.141}", "3.14", [], True, True),
    ("tolerance", "\\boxed{3.15}", "\\pi", [], False, False),
    ("tolerance", "\\boxed{1.41}", "\\sqrt{2}", [], True, True),
    ("tolerance", "\\boxed{0.333}", "\\frac{1}{3}", [], True, True),
    ("tolerance", "\\boxed{0.34}", "\\frac{1}{3}", [], False, False),
    ("tolerance", "\\boxed{0.125}", "0.12", [], True, True),  # round(0.125, 2) is 0.12 in Python
    ("tolerance", "\\boxed{0.125}", "0.13", [], False, False),
    ("tolerance", "\\boxed{100.4}", "100", [], False, False),  # no relative tolerance
    ("tolerance", "\\boxed{12.004}", "12", [], True, True),
    ("tolerance", "\\boxed{2\\sqrt{3}}", "3.46", [], True, True),
    ("tolerance", "\\boxed{\\sqrt{12}}", "2\\sqrt{3}", [], True, True),
    ("tolerance", "\\boxed{0.5}", "\\frac{1}{2}", [], True, True),
    ("tolerance", "\\boxed{3/4}", "0.75", [], True, True),
    ("tolerance", "\\boxed{x=5}", "5", [], True, True),
    ("tolerance", "\\boxed{5}", "x=5", [], False, False),  # a letter: latex2sympy's state after prose
    ("tolerance", "\\boxed{(1,2)}", "(1, 2)", [], True, True),
    ("tolerance", "\\boxed{(0.5,1)}", "(\\frac{1}{2}, 1)", [], True, True),
    ("tolerance", "\\boxed{(2/1,3)}", "(2,3)", [], False, True),  # 2/1 prints 2.0, 2 prints 2
    # 3. ratios: a:b is a/b to the official parser
    ("ratio", "\\boxed{3:4}", "3:4", [], True, True),
    ("ratio", "\\boxed{0.75}", "3:4", [], True, True),
    ("ratio", "\\boxed{\\frac{3}{4}}", "3:4", [], True, True),
    ("ratio", "\\boxed{6:8}", "3:4", [], True, True),
    ("ratio", "\\boxed{4:3}", "3:4", [], False, False),
    ("ratio", "So the answer is 1:2.", "2:4", [], True, True),
    ("ratio", "The ratio is 1:2.", "2:4", [], False, False),  # "is " takes only a float
    # 4. official quirks that reject
    ("rejects", "\\boxed{60°}", "60", [], False, True),  # the unicode degree sign
    ("rejects", "\\boxed{60^\\circ}", "60", [], True, True),  # the LaTeX one is stripped
    ("rejects", "\\boxed{\\frac12}", "0.5", [], False, True),
    ("rejects", "\\boxed{\\sqrt3}", "\\sqrt{3}", [], True, True),  # _fix_sqrt adds the braces
    ("rejects", "\\boxed{\\sqrt3\\frac12}", "0.87", [], True, True),  # and then fixes \frac12
    ("rejects", "\\boxed{6e1}", "60", [], False, True),
    ("rejects", "\\boxed{2π}", "6.28", [], False, True),
    ("rejects", "\\boxed{\\frac{\\sqrt{3}}{2}}", "\\frac{\\sqrt3}{2}", [], False, True),  # gold unreadable
    ("rejects", "\\boxed{45^\\circ}", "B", ANGLES, False, True),  # option text 45°, answer 45
    ("rejects", "\\boxed{45°}", "B", ANGLES, True, True),
    ("rejects", "\\boxed{\\ln 2}", "0.69", [], False, True),  # sympy log(2, E): E has no name
    ("rejects", "\\boxed{|-3|}", "3", [], False, True),  # Abs has no name in math
    # 5. official quirks that accept
    ("accepts", "\\boxed{1,000}", "1000", [], True, True),
    ("accepts", "So the answer is 1,500.", "1500", [], True, True),
    ("accepts", "\\boxed{12,5}", "12.5", [], False, False),  # 12,5 is a list, not a decimal comma
    ("accepts", "So the answer is 6).", "6", [], True, True),  # the parser stops at ')'
    ("accepts", "So the answer is 4'.", "4", [], True, True),
    ("accepts", "\\boxed{5} apples in all.", "5", [], True, True),
    ("accepts", "\\boxed{12} \\text{ cm}", "12", [], True, True),
    ("accepts", "\\boxed{12\\text{ cm}}", "12", [], False, False),
    ("accepts", "\\boxed{12 \\text{ units}}", "12", [], True, True),
]


def mmrl_verdict(case, lenient: bool) -> bool:
    from mmrl.eval.benchmarks.mathvision import MathVision

    _, response, gold, options, _, _ = case
    sample = {"answer": gold, **({"choices": options} if len(options) >= 2 else {})}
    return bool(MathVision().score(response, sample, {"lenient": lenient, "answer_tag": False}).correct)


def casebook() -> dict[str, list[int]]:
    """Per kind: [official agreements, lenient agreements, cases]."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for case in CASES:
        row = table[case[0]]
        row[0] += mmrl_verdict(case, lenient=False) == case[4]
        row[1] += mmrl_verdict(case, lenient=True) == case[5]
        row[2] += 1
    return table


def load_published(root: Path) -> tuple[dict[str, dict], list[tuple[str, dict]]]:
    """``data/test.jsonl`` by id, and every ``outputs/**/*.jsonl`` row with its file."""
    gold = {}
    with open(root / "data" / "test.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                gold[str(row["id"])] = row
    rows = []
    for path in sorted((root / "outputs").rglob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            rows.extend((str(path.relative_to(root)), json.loads(line)) for line in fh if line.strip())
    return gold, rows


def rescore(root: Path) -> tuple[int, int, list[str]]:
    """(rows scored, published verdicts reproduced, one line per difference)."""
    from mmrl.eval.benchmarks.mathvision import MathVision

    bench = MathVision()
    gold, rows = load_published(root)
    same, differences, scored = 0, [], 0
    for name, row in rows:
        item = gold.get(str(row["id"]))
        if item is None or "correct" not in row:
            continue
        options = item.get("options") or []
        sample = {"answer": str(item["answer"]), **({"choices": options} if len(options) >= 2 else {})}
        judgement = bench.score(row["response"], sample, {"answer_tag": False})
        scored += 1
        if judgement.correct == bool(row["correct"]):
            same += 1
        else:
            differences.append(f"{name} id {row['id']}: published {row['correct']}, mmrl {judgement.correct} "
                               f"(mmrl read {judgement.normalised!r}, published model_answer "
                               f"{row.get('model_answer')!r}, gold {item['answer']!r})")
    return scored, same, differences


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--outputs", type=Path, help="a local copy of the MATH-V repository (data/ and outputs/)")
    args = ap.parse_args()
    table = casebook()
    print(f"{'kind':<14}{'official agrees':>18}{'lenient agrees':>18}")
    for kind, (official, lenient, total) in table.items():
        print(f"{kind:<14}{f'{official}/{total}':>18}{f'{lenient}/{total}':>18}")
    totals = [sum(v[i] for v in table.values()) for i in range(3)]
    print(f"{'all':<14}{f'{totals[0]}/{totals[2]}':>18}{f'{totals[1]}/{totals[2]}':>18}")
    if args.outputs:
        scored, same, differences = rescore(args.outputs)
        print(f"\npublished outputs: {same}/{scored} verdicts reproduced "
              f"({100 * same / max(scored, 1):.1f}%), {len(differences)} differ")
        for line in differences:
            print("  " + line)


if __name__ == "__main__":
    main()
