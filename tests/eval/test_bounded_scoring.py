"""Benchmark scoring runs in the reward worker pool: bounded in time, and a failure is one item."""
from __future__ import annotations

from pathlib import Path

from mmrl.eval.benchmark import get_benchmark
from mmrl.eval.scoring import score_located, scoring_pool
from mmrl.io.jsonl import Located

SLOW = f"{Path(__file__).parent / 'slow_benchmark.py'}:SlowBench"


def rollout(rid: str, response: str, answer: str = "7") -> Located:
    record = {"id": rid, "question": "q", "answer": answer, "sample": 0, "response": response,
              "finish_reason": "stop", "num_tokens": 1, "model": "m"}
    return Located(record, "r.jsonl", 1)


def test_a_hanging_scorer_marks_only_its_item_wrong_and_the_run_goes_on():
    bench = get_benchmark(SLOW)
    items = [rollout("a", "7"), rollout("b", "HANG"), rollout("c", "8")]
    with scoring_pool(SLOW, workers=1, timeout=2.0) as scorer:  # the hang is endless; 2 s spares a loaded CPU
        rows = list(score_located(bench, items, None, scorer))
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert [r["correct"] for r in rows] == [True, False, False]
    assert rows[1]["rule"] == "error" and "timeout" in rows[1]["error"].lower()
    assert "error" not in rows[0] and "error" not in rows[2]


def test_pool_and_in_process_scoring_agree(samples_of):
    bench = get_benchmark("mathvista")
    samples = list(samples_of("mathvista").values())
    items = [Located({**s, "sample": 0, "response": f"<answer>{s['answer']}</answer>", "finish_reason": "stop",
                      "num_tokens": 1, "model": "m"}, "r.jsonl", i + 1) for i, s in enumerate(samples)]
    with scoring_pool("mathvista", workers=1) as scorer:
        pooled = list(score_located(bench, items, None, scorer))
    assert pooled == list(score_located(bench, items))
    assert all(r["correct"] for r in pooled if r.get("answer") is not None)
