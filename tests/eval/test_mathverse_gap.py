"""The MathVerse judge-gap script: mmrl's judge-free verdicts next to the official judged ones."""
from __future__ import annotations

import importlib.util
from pathlib import Path


def gap_module():
    path = Path(__file__).parents[2] / "benchmarks" / "mathverse_judge_gap.py"
    spec = importlib.util.spec_from_file_location("mathverse_judge_gap", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def record(index, response, judgement=None):
    out = {"sample_index": index, "answer": "14", "question_type": "free-form", "question": "Find L.",
           "model_answer": response}
    return out if judgement is None else {**out, "extraction": "14", "judgement": judgement}


def test_a_closing_sentence_fails_the_quick_match_that_a_judge_passes():
    result = gap_module().compare([record("1", "Some work.\n\nThe straw is 14 cm long.", judgement=1)])
    assert (result["judge_free_correct"], result["judged_correct"], result["agree"]) == (0, 1, 0)


def test_a_bare_final_answer_agrees_with_the_judge():
    result = gap_module().compare([record("1", "Some work.\n\nFinal answer: 14", judgement=1)])
    assert result["agree"] == 1


def test_records_without_judgements_are_scored_judge_free_only():
    result = gap_module().compare([record("1", "So the answer is 14")])
    assert (result["n"], result["judge_free_correct"], result["judged_n"]) == (1, 1, 0)
