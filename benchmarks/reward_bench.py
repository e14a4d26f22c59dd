"""Throughput and agreement of mmrl's verifiers against math-verify, on two corpora.

1. ``generated``:  a few thousand realistic (response, reference) pairs across the answer forms the math
verifier must handle (integers, decimals, fractions, mixed numbers, percentages, scientific
notation, thousands separators, units and degrees, ``x = 2``, intervals, sets, tuples, matrices,
expressions, roots, pi, text), each with the label it was built to have (an equivalent rewrite
or a perturbed wrong answer). Each case is scored in this one process by mmrl's ``math``
verifier and by math-verify (``parse`` of the reference and of the response, then ``verify``),
and the script prints: cases/s per process for both, agreement between them, accuracy of each
against the built labels, and the cases where they disagree.

2. ``answers``: 612 hand-written model answers (``benchmarks/data/answers_corpus.py``): sentences,
other languages, math delimiters, decimal commas and currencies, text references, traps a grader
must reject, choice letters with negations, typesetting noise, each with a careful grader's
verdict and its reason. mmrl scores each case with the case's verifier (``math`` or ``choice``)
and params; math-verify with its default settings (``parse`` of the reference, wrapped in ``$``
when that parses, and of the response after its thinking with the answer tags removed, since math-verify reads no
tags, then ``verify``), and for choice cases with its
``StringExtractionConfig`` for letters. Agreement with the labels per kind, every case where
either checker disagrees with its label, and the speed of both.

3. ``suites``: the equivalence cases of graders' own published test suites, math-verify's
(``tests/`` of its sdist, fetched from PyPI at the installed version and cached under the
git-ignored ``benchmarks/.suites/``) and lighteval's (``tests/unit/metrics/test_extractive_match.py``,
which its sdists do not ship: ``--suite-dir lighteval=PATH`` names a checkout). The test files
are parsed, never run (``benchmarks/public_suites.py``). Each case is scored by mmrl (``math``, or
``choice`` for the suites' letter cases, with the settings math-verify is given for the case in
mmrl's terms: ``abs_tol``, ``rename_variables``, ``relation_answers_set``, ``fallback``) and by
math-verify as the suite's own ``compare_strings`` helper does (its extraction configs,
``float_rounding``, ``strict``...), and each grader's agreement with the suite's expected
verdicts is printed side by side, with every case where mmrl disagrees.

4. ``latency``: responses in four scripts (Latin, CJK, Arabic, Devanagari) of 100 B to 16 KB
(``benchmarks/data/script_responses.py``), each timed alone in this process, mmrl's ``math``
verifier against math-verify's ``parse`` + ``verify``: p50/p99/max milliseconds per script and
size.

The run ends with the issue-26 checks: each suite's agreement against math-verify's, the
hand-written corpus, the speed-up over every case scored, and the slowest response of at most
4 KB.

Timing: each corpus is scored ``--repeats`` times by each checker in this one process, the two
interleaved, with mmrl's caches cleared before each of its passes; the table gives the median and
the range (min-max) of cases/s and of the speed-up over the repeats, not the best run.
``--pathological`` also times every registered verifier on the pathological inputs of
``tests/rewards/test_safety.py`` (the unit tests only check that they are bounded).

math-verify is a benchmark-only dependency (``pip install math-verify``), never one of mmrl's;
without it the script says so and exits with status 2.

    python benchmarks/reward_bench.py --n 3000 --seed 0 --repeats 3 \\
        --suite-dir lighteval=/path/to/lighteval
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

FILLER = [
    "First I read the figure carefully and note the given quantities.",
    "Let me set up the relation between the quantities shown in the image.",
    "Substituting the values and simplifying step by step gives the result.",
    "I double-check the arithmetic to make sure nothing was dropped.",
    "The diagram shows a triangle with the marked side lengths.",
]


@dataclass(frozen=True)
class Case:
    category: str
    gold: str
    pred: str
    label: bool  # whether pred is a correct answer for gold, by construction


def _frac(q: Fraction) -> str:
    sign = "-" if q < 0 else ""
    q = abs(q)
    return f"{sign}\\frac{{{q.numerator}}}{{{q.denominator}}}" if q.denominator != 1 else f"{sign}{q.numerator}"


def _terminating(q: Fraction) -> bool:
    d = q.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal(q: Fraction) -> str:
    return f"{float(q):.10f}".rstrip("0").rstrip(".")


def make_cases(n: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    makers = []

    def maker(fn):
        makers.append(fn)
        return fn

    @maker
    def integer():
        v = rng.randint(-500, 5000)
        right = rng.choice([str(v), f"{v}.0", f"x = {v}", f"{v}"])
        return Case("integer", str(v), right, True) if rng.random() < 0.6 else \
            Case("integer", str(v), str(v + rng.choice([-2, -1, 1, 3])), False)

    @maker
    def decimal():
        v = Fraction(rng.randint(1, 99999), 100)
        if rng.random() < 0.6:
            return Case("decimal", _decimal(v), rng.choice([_decimal(v), f"{float(v):.2f}", f"{float(v):.3f}"]), True)
        return Case("decimal", _decimal(v), _decimal(v + Fraction(rng.choice([1, 3, 7]), 10)), False)

    @maker
    def fraction():
        while True:
            q = Fraction(rng.randint(1, 40), rng.randint(2, 40))
            if q.denominator != 1:
                break
        gold = _frac(q)
        if rng.random() < 0.6:
            forms = [gold.replace("\\frac", "\\dfrac"), f"{q.numerator}/{q.denominator}",
                     f"\\frac{{{2 * q.numerator}}}{{{2 * q.denominator}}}"]
            if _terminating(q):
                forms.append(_decimal(q))
            return Case("fraction", gold, rng.choice(forms), True)
        wrong = Fraction(q.numerator + 1, q.denominator)
        return Case("fraction", gold, _frac(wrong), False)

    @maker
    def mixed():
        a, c = rng.randint(1, 9), rng.randint(2, 9)
        b = rng.randint(1, c - 1)
        value = a + Fraction(b, c)
        gold = f"{a}\\frac{{{b}}}{{{c}}}"
        if rng.random() < 0.6:
            forms = [_frac(value)] + ([_decimal(value)] if _terminating(value) else [])
            return Case("mixed number", gold, rng.choice(forms), True)
        return Case("mixed number", gold, _frac(value + 1), False)

    @maker
    def percent():
        p = rng.randint(1, 99)
        if rng.random() < 0.6:
            return rng.choice([Case("percent", f"{p}\\%", f"{p}\\%", True), Case("percent", f"{p}\\%", f"{p}%", True),
                               Case("percent", _decimal(Fraction(p, 100)), f"{p}\\%", True)])
        return Case("percent", f"{p}\\%", f"{p + 5}\\%", False)

    @maker
    def scientific():
        m, e = rng.randint(11, 99), rng.randint(3, 8)
        gold = f"{m / 10}\\times 10^{{{e}}}"
        value = Fraction(m, 10) * 10 ** e
        if rng.random() < 0.6:
            return Case("scientific", gold, rng.choice([str(int(value)), f"{m / 10}e{e}", f"{m / 10} \\times 10^{e}"]),
                        True)
        return Case("scientific", gold, f"{m / 10}\\times 10^{{{e - 1}}}", False)

    @maker
    def thousands():
        v = rng.randint(1000, 9_999_999)
        if rng.random() < 0.6:
            return Case("thousands", str(v), f"{v:,}", True)
        return Case("thousands", str(v), f"{v + rng.choice([9, 90, 900]):,}", False)

    @maker
    def units():
        v = rng.randint(1, 180)
        if rng.random() < 0.6:
            return Case("units/degrees", str(v), rng.choice([f"{v}^\\circ", f"{v}^{{\\circ}}", f"{v}\\text{{ cm}}",
                                                             f"{v} \\text{{ meters}}"]), True)
        return Case("units/degrees", str(v), f"{v + 10}^\\circ", False)

    @maker
    def equation():
        v = rng.randint(-20, 20)
        var = rng.choice("xyk")
        if rng.random() < 0.6:
            return Case("x = value", str(v), f"{var} = {v}", True)
        return Case("x = value", str(v), f"{var} = {v + 1}", False)

    @maker
    def interval():
        a, b = sorted(rng.sample(range(-10, 10), 2))
        lo, hi = rng.choice("(["), rng.choice(")]")
        gold = f"{lo}{a}, {b}{hi}"
        if rng.random() < 0.6:
            return Case("interval", gold, f"\\left{lo}{a},{b}\\right{hi}", True)
        flip = {"(": "[", "[": "("}[lo]
        return Case("interval", gold, f"{flip}{a}, {b}{hi}", False)

    @maker
    def sets():
        items = rng.sample(range(-9, 20), rng.randint(2, 4))
        gold = "\\{" + ", ".join(map(str, items)) + "\\}"
        shuffled = items[:]
        rng.shuffle(shuffled)
        if rng.random() < 0.6:
            return Case("set", gold, "\\{" + ",".join(map(str, shuffled)) + "\\}", True)
        return Case("set", gold, "\\{" + ", ".join(map(str, shuffled[:-1])) + "\\}", False)

    @maker
    def tuples():
        a, b = rng.sample(range(-9, 10), 2)
        gold = f"({a}, {b})"
        if rng.random() < 0.6:
            return Case("tuple", gold, f"({a},{b})", True)
        return Case("tuple", gold, f"({b}, {a})", False)

    @maker
    def matrix():
        vals = [rng.randint(-5, 9) for _ in range(4)]
        body = f"{vals[0]} & {vals[1]} \\\\ {vals[2]} & {vals[3]}"
        gold = f"\\begin{{pmatrix}}{body}\\end{{pmatrix}}"
        if rng.random() < 0.6:
            return Case("matrix", gold, f"\\begin{{bmatrix}}{body}\\end{{bmatrix}}", True)
        wrong = f"{vals[0]} & {vals[1]} \\\\ {vals[2]} & {vals[3] + 1}"
        return Case("matrix", gold, f"\\begin{{pmatrix}}{wrong}\\end{{pmatrix}}", False)

    @maker
    def expression():
        a, b = rng.randint(2, 9), rng.randint(1, 9)
        forms = [
            (f"{a}x + {b}", f"{b} + {a}x", f"{a}x - {b}"),
            (f"x^2 - {b * b}", f"(x - {b})(x + {b})", f"(x - {b})^2"),
            (f"\\frac{{x+{b}}}{{{a}}}", f"\\frac{{x}}{{{a}}} + \\frac{{{b}}}{{{a}}}", f"\\frac{{x+{b}}}{{{a + 1}}}"),
        ]
        gold, right, wrong = rng.choice(forms)
        return Case("expression", gold, right, True) if rng.random() < 0.6 else Case("expression", gold, wrong, False)

    @maker
    def root():
        k, m = rng.randint(2, 6), rng.choice([2, 3, 5, 6, 7])
        gold = f"{k}\\sqrt{{{m}}}"
        if rng.random() < 0.6:
            return Case("sqrt", gold, rng.choice([f"\\sqrt{{{k * k * m}}}", f"\\sqrt{{{m}}} \\cdot {k}"]), True)
        return Case("sqrt", gold, f"{k + 1}\\sqrt{{{m}}}", False)

    @maker
    def pi():
        d = rng.choice([2, 3, 4, 6, 12])
        gold = f"\\frac{{\\pi}}{{{d}}}"
        if rng.random() < 0.6:
            return Case("pi", gold, rng.choice([f"\\pi/{d}", f"\\frac{{1}}{{{d}}}\\pi"]), True)
        return Case("pi", gold, f"\\frac{{\\pi}}{{{d * 2}}}", False)

    cases = [rng.choice(makers)() for _ in range(n)]
    return cases


def response_for(case: Case, rng: random.Random) -> str:
    thinking = " ".join(rng.sample(FILLER, 3))
    style = rng.random()
    if style < 0.6:
        return f"<think>{thinking}</think>\n<answer>\\boxed{{{case.pred}}}</answer>"
    if style < 0.85:
        return f"{thinking}\nTherefore, the final answer is $\\boxed{{{case.pred}}}$."
    return f"{thinking}\nSo the answer is ${case.pred}$."


def clear_mmrl_caches() -> None:
    from mmrl.rewards.mathparse.equiv import _normalized
    from mmrl.rewards.mathparse.values import parse_answer

    _normalized.cache_clear()
    parse_answer.cache_clear()


def run_mmrl(cases, responses):
    from mmrl.rewards import VERIFIERS

    verify = VERIFIERS.get("math")
    out = []
    start = time.perf_counter()
    for case, response in zip(cases, responses):
        out.append(verify(response, {"answer": case.gold}, {}).accuracy == 1.0)
    return out, time.perf_counter() - start


def run_math_verify(cases, responses):
    from math_verify import parse, verify

    out = []
    start = time.perf_counter()
    for case, response in zip(cases, responses):
        try:
            out.append(bool(verify(parse(f"${case.gold}$"), parse(response))))
        except Exception:  # noqa: BLE001 - a crash is a "not verified"
            out.append(False)
    return out, time.perf_counter() - start


def load_answers_corpus() -> list[dict]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from data.answers_corpus import CASES

    return CASES


def mmrl_answers(cases: list[dict]) -> tuple[list[bool], float]:
    from mmrl.rewards import VERIFIERS

    out = []
    start = time.perf_counter()
    for c in cases:
        sample = {"answer": c["gold"]}
        for key in ("question", "choices"):
            if key in c:
                sample[key] = c[key]
        verify = VERIFIERS.get(c.get("verifier", "math"))
        try:
            out.append(verify(c["response"], sample, c.get("params", {})).accuracy == 1.0)
        except Exception:  # noqa: BLE001 - scored as the reward pool would: an error is 0
            out.append(False)
    return out, time.perf_counter() - start


def for_math_verify(response: str) -> str:
    """What math-verify is given: the answer part, as LaTeX, where the response has one.

    math-verify has no notion of ``<think>``/``<answer>``, and reads LaTeX only between math
    delimiters (``parse("2\\sqrt{3}")`` finds ``2``; ``parse("$2\\sqrt{3}$")`` finds ``2*sqrt(3)``).
    To give it its best chance, the content of the last ``<answer>`` tag is wrapped in ``$…$``
    unless it already has delimiters or a box (a sentence wrapped so still parses: ``$The answer
    is 4$`` gives 4); without a tag it reads the text after the thinking.
    """
    cut = response.rfind("</think>")
    if cut >= 0:
        response = response[cut + len("</think>"):]
    elif response.lstrip().startswith("<think>"):
        return ""  # cut off inside the thinking: no answer
    start = response.rfind("<answer>")
    if start < 0:
        return response
    content = response[start + len("<answer>"):].split("</answer>")[0].strip()
    if not content or any(d in content for d in ("$", "\\(", "\\[", "\\boxed", "<|begin_of_box|>")):
        return content
    return f"${content}$"


def math_verify_answers(cases: list[dict]) -> tuple[list[bool], float]:
    from math_verify import StringExtractionConfig, parse, verify

    letters = [StringExtractionConfig()]
    out = []
    start = time.perf_counter()
    for c in cases:
        try:
            response = for_math_verify(c["response"])
            if c.get("verifier") == "choice":
                gold, pred = parse(c["gold"], letters), parse(response, letters)
            else:
                gold = parse(f"${c['gold']}$") or parse(c["gold"])
                pred = parse(response)
            out.append(bool(verify(gold, pred)))
        except Exception:  # noqa: BLE001 - a crash is a "not verified"
            out.append(False)
    return out, time.perf_counter() - start


def timed(run_a, run_b, repeats: int):
    """Interleaved repeats of two timed runs; their verdicts (from the first) and every time."""
    times_a, times_b, verdicts = [], [], None
    for _ in range(repeats):
        clear_mmrl_caches()
        va, ta = run_a()
        vb, tb = run_b()
        verdicts = verdicts or (va, vb)
        times_a.append(ta)
        times_b.append(tb)
    return verdicts, times_a, times_b


def scored(run_mmrl_on, run_peer_on, cases, repeats: int, totals: dict):
    """Both checkers warmed, then timed in interleaved repeats; verdicts and times, added to ``totals``."""
    run_mmrl_on(cases[:20])
    run_peer_on(cases[:20])
    (ours, theirs), t_ours, t_theirs = timed(lambda: run_mmrl_on(cases), lambda: run_peer_on(cases), repeats)
    _add_times(totals, t_ours, t_theirs)
    return ours, theirs, t_ours, t_theirs


def rate_line(n: int, times: list[float]) -> str:
    rates = sorted(n / t for t in times)
    return f"{statistics.median(rates):,.0f} ({rates[0]:,.0f}-{rates[-1]:,.0f})"


def speedup_line(times_mmrl: list[float], times_peer: list[float]) -> str:
    ups = sorted(b / a for a, b in zip(times_mmrl, times_peer))
    return f"{statistics.median(ups):.1f}x (range {ups[0]:.1f}-{ups[-1]:.1f}x over {len(ups)} runs)"


def report_generated(args, totals: dict) -> None:
    cases = make_cases(args.n, args.seed)
    rng = random.Random(args.seed + 1)
    responses = [response_for(c, rng) for c in cases]
    run_mmrl(cases[:20], responses[:20])  # warm both (imports, first-call set-up)
    run_math_verify(cases[:20], responses[:20])
    (ours, theirs), t_ours, t_theirs = timed(lambda: run_mmrl(cases, responses),
                                             lambda: run_math_verify(cases, responses), args.repeats)
    _add_times(totals, t_ours, t_theirs)
    n = len(cases)
    by_cat = defaultdict(Counter)
    examples = defaultdict(list)
    for c, a, b in zip(cases, ours, theirs):
        k = by_cat[c.category]
        k["n"] += 1
        k["agree"] += a == b
        k["mmrl_right"] += a == c.label
        k["mv_right"] += b == c.label
        if a != b and len(examples[c.category]) < args.examples:
            examples[c.category].append((c, a, b))

    print(f"## generated corpus: {n} cases, seed {args.seed}, one process each, {args.repeats} timed runs\n")
    print("| verifier | cases/s, median (range) | agreement with labels |")
    print("|---|---:|---:|")
    print(f"| mmrl math | {rate_line(n, t_ours)} | {sum(a == c.label for a, c in zip(ours, cases)) / n:.2%} |")
    print(f"| math-verify | {rate_line(n, t_theirs)} | {sum(b == c.label for b, c in zip(theirs, cases)) / n:.2%} |")
    print(f"\nspeed-up: {speedup_line(t_ours, t_theirs)}; mmrl and math-verify agree on "
          f"{sum(a == b for a, b in zip(ours, theirs)) / n:.2%} of cases\n")
    print("| category | cases | agree | mmrl right | math-verify right |")
    print("|---|---:|---:|---:|---:|")
    for cat in sorted(by_cat):
        k = by_cat[cat]
        print(f"| {cat} | {k['n']} | {k['agree'] / k['n']:.0%} | {k['mmrl_right'] / k['n']:.0%} | "
              f"{k['mv_right'] / k['n']:.0%} |")
    if examples:
        print("\nDisagreements between the two (reference | answer | label | mmrl | math-verify):\n")
        for cat in sorted(examples):
            for c, a, b in examples[cat]:
                print(f"- {cat}: `{c.gold}` | `{c.pred}` | {c.label} | {a} | {b}")
    print()


def _show(text: str, width: int = 110) -> str:
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 3] + "..."


def report_answers(args, totals: dict, checks: list) -> None:
    cases = load_answers_corpus()
    ours, theirs, t_ours, t_theirs = scored(mmrl_answers, math_verify_answers, cases, args.repeats, totals)
    n = len(cases)
    kinds = defaultdict(Counter)
    for c, a, b in zip(cases, ours, theirs):
        k = kinds[c["kind"]]
        k["n"] += 1
        k["mmrl"] += a == c["verdict"]
        k["mv"] += b == c["verdict"]
    print(f"## answers corpus: {n} hand-written cases (benchmarks/data/answers_corpus.py), "
          f"{args.repeats} timed runs\n")
    print("| kind | cases | mmrl agrees with the label | math-verify agrees with the label |")
    print("|---|---:|---:|---:|")
    for kind in sorted(kinds, key=lambda k: -kinds[k]["n"]):
        k = kinds[kind]
        print(f"| {kind} | {k['n']} | {k['mmrl'] / k['n']:.1%} ({k['mmrl']}) | {k['mv'] / k['n']:.1%} ({k['mv']}) |")
    right_a = sum(a == c["verdict"] for a, c in zip(ours, cases))
    right_b = sum(b == c["verdict"] for b, c in zip(theirs, cases))
    print(f"| **all** | {n} | **{right_a / n:.1%}** ({right_a}) | {right_b / n:.1%} ({right_b}) |")
    checks.append((f"hand-written corpus: mmrl {right_a / n:.1%} >= 99% (math-verify {right_b / n:.1%})",
                   right_a / n >= 0.99, ""))
    print(f"\n| checker | cases/s, median (range) |\n|---|---:|\n| mmrl | {rate_line(n, t_ours)} |\n"
          f"| math-verify | {rate_line(n, t_theirs)} |\n\nspeed-up: {speedup_line(t_ours, t_theirs)}\n")
    for who, verdicts in (("mmrl", ours), ("math-verify", theirs)):
        wrong = [(c, v) for c, v in zip(cases, verdicts) if v != c["verdict"]]
        if args.peer_misses == "count" and who == "math-verify":
            print(f"math-verify disagrees with the label on {len(wrong)} cases (list them: --peer-misses list)\n")
            continue
        print(f"Every case where {who} disagrees with the label ({len(wrong)}): kind | reference | response | "
              f"label | reason\n")
        for c, v in wrong:
            print(f"- {c['kind']} | `{_show(c['gold'], 40)}` | `{_show(c['response'])}` | {c['verdict']} | {c['reason']}")
        print()


def _suite_verifier(case) -> tuple[str, dict]:
    """mmrl's verifier and params for a suite case, the settings math-verify is given for it
    (``math_verify_suite``) in mmrl's terms: letters go to ``choice``; a ``precision`` the test
    passes (decimal places math-verify rounds to) becomes ``abs_tol``; ``strict`` (default true)
    is ``rename_variables = not strict``; ``allow_set_relation_comp`` (math-verify's default false,
    which neither suite's helper changes unless the test passes it) is ``relation_answers_set``;
    ``match_types`` without ``expr`` (answers read only from LaTeX) is ``fallback="math"``."""
    kinds = case.options.get("match_types", ["latex", "expr"])
    if kinds == ["NativeLetters"]:
        return "choice", {}
    params = {"rename_variables": not case.options.get("strict", True),
              "relation_answers_set": bool(case.options.get("allow_set_relation_comp", False))}
    if "expr" not in kinds:
        params["fallback"] = "math"
    if "precision" in case.options:
        params["abs_tol"] = 10.0 ** -int(case.options["precision"])
    return "math", params


def mmrl_suite(cases) -> tuple[list[bool], float]:
    from mmrl.rewards import VERIFIERS

    out = []
    start = time.perf_counter()
    for c in cases:
        name, params = _suite_verifier(c)
        try:
            out.append(VERIFIERS.get(name)(c.pred, {"answer": c.gold}, params).accuracy == 1.0)
        except Exception:  # noqa: BLE001 - scored as the reward pool would: an error is 0
            out.append(False)
    return out, time.perf_counter() - start


def math_verify_suite(cases) -> tuple[list[bool], float]:
    """math-verify as each suite's ``compare_strings`` calls it (math-verify's own helper sets
    ``boxed_match_priority=0``; lighteval's uses the default config and has no language option
    in math-verify, so the language is not passed)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, StringExtractionConfig, parse, verify

    out = []
    start = time.perf_counter()
    for c in cases:
        targets = []
        for kind in c.options.get("match_types", ["latex", "expr"]):
            if kind == "latex":
                targets.append(LatexExtractionConfig(boxed_match_priority=0) if c.suite == "math-verify"
                               else LatexExtractionConfig())
            elif kind == "expr":
                targets.append(ExprExtractionConfig())
            else:
                targets.append(StringExtractionConfig())
        try:
            ok = verify(parse(c.gold, targets), parse(c.pred, targets),
                        float_rounding=int(c.options.get("precision", 6)), strict=c.options.get("strict", True),
                        allow_set_relation_comp=c.options.get("allow_set_relation_comp", False))
            out.append(bool(ok))
        except Exception:  # noqa: BLE001 - a crash is a "not verified"
            out.append(False)
    return out, time.perf_counter() - start


def load_suites(args) -> dict:
    import public_suites

    dirs = dict(args.suite_dir)
    loaded = {}
    for suite in public_suites.SUITES:
        try:
            loaded[suite] = public_suites.load(suite, math_verify_version=_version("math-verify"),
                                               suite_dir=dirs.get(suite))
        except public_suites.SuiteUnavailable as e:
            print(f"{suite} suite not available: {e}", file=sys.stderr)
            loaded[suite] = None
    return loaded


def report_suites(args, totals: dict, checks: list) -> None:
    print("## public suites: graders' own test cases (parsed from their published tests, never run)\n")
    loaded = load_suites(args)
    rows, misses = [], []
    for suite, found in loaded.items():
        if found is None:
            rows.append(f"| {suite} | not available (see stderr) | | | |")
            checks.append((f"{suite} suite agreement >= math-verify's", False, "suite not available"))
            continue
        cases, skipped = found
        ours, theirs, t_ours, t_theirs = scored(mmrl_suite, math_verify_suite, cases, args.repeats, totals)
        n = len(cases)
        a = sum(v == c.expected for v, c in zip(ours, cases)) / n
        b = sum(v == c.expected for v, c in zip(theirs, cases)) / n
        rows.append(f"| {suite} | {n} ({len(skipped)} tests/rows not cases) | **{a:.1%}** | {b:.1%} | "
                    f"{speedup_line(t_ours, t_theirs)} |")
        goal = max(b, 0.95) if b >= 0.95 else b
        checks.append((f"{suite} suite: mmrl {a:.1%} >= {goal:.1%} (math-verify {b:.1%})", a >= goal - 1e-12, ""))
        misses += [(c, v, w) for c, v, w in zip(cases, ours, theirs) if v != c.expected]
        for sk in skipped if args.show_skipped else ():
            print(f"- skipped {suite} {sk.file}:{sk.line} {sk.test}: {sk.reason}")
    print("| suite | cases | mmrl agrees with the suite | math-verify agrees with the suite | speed-up |")
    print("|---|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(f"\nEvery case where mmrl disagrees with its suite ({len(misses)}): suite file:line | expected | "
          f"math-verify | reference | response\n")
    for c, _, w in misses:
        print(f"- {c.suite} {c.where} | {c.expected} | {w} | `{_show(c.gold, 50)}` | `{_show(c.pred, 90)}`")
    print()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def report_latency(args, checks: list) -> None:
    """Each response timed ``repeats`` times, the two checkers interleaved. A response's cost is
    the median of its timings (one preemption by another process on shared cores is not the
    response's cost); p50/p99/max are over responses, and the largest single timing is shown too."""
    from math_verify import parse, verify

    from data.script_responses import SCRIPTS, SIZES, corpus
    from mmrl.rewards import VERIFIERS

    verify_math = VERIFIERS.get("math")
    items = corpus(args.latency_n)
    timings = [([], []) for _ in items]
    for _ in range(args.repeats):
        for it, (mine, theirs) in zip(items, timings):
            clear_mmrl_caches()
            start = time.perf_counter()
            verify_math(it.response, {"answer": it.answer}, {})
            mine.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            try:
                verify(parse(f"${it.answer}$"), parse(it.response))
            except Exception:  # noqa: BLE001 - timed all the same
                pass
            theirs.append((time.perf_counter() - start) * 1000)
    cells: dict = defaultdict(lambda: ([], [], [], []))
    for it, (mine, theirs) in zip(items, timings):
        cell = cells[(it.script, it.size)]
        cell[0].append(statistics.median(mine))
        cell[1].append(statistics.median(theirs))
        cell[2].append(max(mine))
        cell[3].append(max(theirs))
    print(f"## latency per response: {args.latency_n} responses per script and size, each timed "
          f"{args.repeats} times alone; a response's time is the median of its timings (ms: p50 / p99 / max "
          f"over responses, and the largest single timing)\n")
    print("| script | size | mmrl p50 | p99 | max | largest single | math-verify p50 | p99 | max | largest single |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    worst_small = (0.0, "")
    for script in SCRIPTS:
        for size in SIZES:
            ours, theirs, ours_single, theirs_single = cells[(script, size)]
            print(f"| {script} | {size:,} B | {_percentile(ours, .5):.2f} | {_percentile(ours, .99):.2f} | "
                  f"{max(ours):.2f} | {max(ours_single):.2f} | {_percentile(theirs, .5):.2f} | "
                  f"{_percentile(theirs, .99):.2f} | {max(theirs):.2f} | {max(theirs_single):.2f} |")
            if size <= 4096 and max(ours) > worst_small[0]:
                worst_small = (max(ours), f"{script} {size:,} B")
    print()
    checks.append((f"slowest mmrl response <= 4 KB (median of its {args.repeats} timings): {worst_small[0]:.1f} ms "
                   f"({worst_small[1]}) <= 20 ms", worst_small[0] <= 20.0, ""))


def _add_times(totals: dict, t_ours: list[float], t_theirs: list[float]) -> None:
    for k, (a, b) in enumerate(zip(t_ours, t_theirs)):
        run = totals.setdefault(k, [0.0, 0.0])
        run[0] += a
        run[1] += b



def report_pathological() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.rewards.test_safety import ALL, PATHOLOGICAL, score

    print("## pathological answers: seconds per call, every registered verifier (max over the inputs)\n")
    print("| verifier | slowest input | seconds |")
    print("|---|---|---:|")
    for verifier in ALL:
        worst, worst_name = 0.0, ""
        for name, text in PATHOLOGICAL.items():
            start = time.perf_counter()
            score(f"<think>t</think><answer>\\boxed{{{text}}}</answer>", verifier)
            took = time.perf_counter() - start
            if took > worst:
                worst, worst_name = took, name
        print(f"| {verifier} | {worst_name} | {worst:.3f} |")
    print()


CORPORA = ("suites", "answers", "generated", "latency")


def _suite_dir(text: str) -> tuple[str, Path]:
    import public_suites

    name, sep, path = text.partition("=")
    if not sep or name not in public_suites.SUITES or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH with NAME one of {', '.join(public_suites.SUITES)}, "
                                         f"got {text!r}")
    return name, Path(path)


def report_checks(totals: dict, checks: list) -> None:
    if totals:
        ups = sorted(peer / mine for mine, peer in totals.values())
        mid = statistics.median(ups)
        checks.append((f"speed-up over every case scored: {mid:.1f}x (range {ups[0]:.1f}-{ups[-1]:.1f}x over "
                       f"{len(ups)} runs) >= 20x", mid >= 20.0, ""))
    print("## issue 26 checks\n")
    print("| check | met |\n|---|---|")
    for text, ok, note in checks:
        print(f"| {text}{' (' + note + ')' if note else ''} | {'yes' if ok else '**no**'} |")
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", choices=("all",) + CORPORA, action="append",
                    help="what to run (repeatable; default all: suites, answers, generated, latency)")
    ap.add_argument("--suite-dir", type=_suite_dir, action="append", default=[], metavar="NAME=PATH",
                    help="where a public suite's tests are (lighteval: a checkout of its repository; "
                         "math-verify: default, its sdist from PyPI)")
    ap.add_argument("--show-skipped", action="store_true", help="list the suites' tests and rows that are not cases")
    ap.add_argument("--n", type=int, default=3000, help="number of generated cases")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each checker per corpus")
    ap.add_argument("--latency-n", type=int, default=25, help="latency: responses per script and size")
    ap.add_argument("--examples", type=int, default=3, help="generated corpus: disagreements shown per category")
    ap.add_argument("--peer-misses", choices=("list", "count"), default="list",
                    help="answers corpus: list math-verify's disagreements with the labels, or count them")
    ap.add_argument("--pathological", action="store_true", help="also time every verifier on pathological inputs")
    args = ap.parse_args(argv)
    chosen = set(CORPORA) if not args.corpus or "all" in args.corpus else set(args.corpus)
    try:
        import math_verify  # noqa: F401
    except ImportError:
        print("math-verify is not installed, so there is nothing to compare against: "
              "pip install math-verify (a benchmark-only dependency)", file=sys.stderr)
        return 2
    import mmrl.eval.verifiers  # noqa: F401 - the benchmark scorers, for --pathological

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    print(f"# reward_bench (python {sys.version.split()[0]}, math-verify {_version('math-verify')})\n")
    totals: dict = {}
    checks: list = []
    if "suites" in chosen:
        report_suites(args, totals, checks)
    if "answers" in chosen:
        report_answers(args, totals, checks)
    if "generated" in chosen:
        report_generated(args, totals)
    if "latency" in chosen:
        report_latency(args, checks)
    if args.pathological:
        report_pathological()
    report_checks(totals, checks)
    return 0


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
