"""The worker pool: order, reuse, deadlines, crashes, user verifiers in workers."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmrl.rewards import RewardConfig, RewardScorer, score_records

PLUGINS = Path(__file__).parent / "plugins.py"
SLOW_IMPORT = Path(__file__).parent / "slow_import_plugin.py"


@pytest.fixture(autouse=True, scope="module")
def plugins_allowed():
    """The test plugins that records name, allowed as a user allows them (a flag, a recipe, a
    library call): data alone never loads code."""
    from mmrl.rewards.scoring import allow_verifier

    for name in ('pid', 'slow', 'stuck', 'crash', 'always_half', 'hog'):
        allow_verifier(f"{PLUGINS}:{name}")
    allow_verifier(f"{SLOW_IMPORT}:quick")


def rec(i, verifier=None, **params):
    r = {"id": f"q{i}", "sample": 0, "answer": str(i), "response": f"<think>t</think><answer>{i}</answer>"}
    if verifier:
        r["reward"] = {"verifier": verifier, "weights": {"accuracy": 1.0}, "params": params}
    return r


@pytest.fixture(scope="module")
def scorer():
    with RewardScorer(RewardConfig(workers=2, timeout=0.3, start_method="fork")) as s:
        yield s


def test_results_come_back_in_input_order(scorer):
    records = [rec(i) for i in range(100)]
    out = scorer.score(records)
    assert [r["id"] for r in out] == [r["id"] for r in records]
    assert all(r["rewards"]["accuracy"] == 1.0 for r in out)


def test_the_pool_is_reused_across_calls(scorer):
    first = {r["rewards"]["pid"] for r in scorer.score([rec(i, f"{PLUGINS}:pid") for i in range(20)])}
    second = {r["rewards"]["pid"] for r in scorer.score([rec(i, f"{PLUGINS}:pid") for i in range(20)])}
    assert first == second and len(first) <= 2


def test_progress_reaches_the_verifier(scorer):
    record = {"id": "b", "sample": 0, "answer": [0, 0, 10, 10], "response": "<answer>[0, 0, 10, 9]</answer>",
              "reward": {"verifier": "iou", "params": {"iou_threshold": "dynamic"}, "weights": {"accuracy": 1}}}
    assert scorer.score([record], progress=0.05)[0]["rewards"]["total"] == pytest.approx(0.9)
    assert scorer.score([record], progress=0.5)[0]["rewards"]["total"] == 0.0


def test_soft_timeout_keeps_the_run_going(scorer):
    records = [rec(1), rec(2, f"{PLUGINS}:slow"), rec(3)]
    out = scorer.score(records)
    assert out[1]["error"].startswith("timeout") and out[1]["rewards"]["total"] == 0.0
    assert out[0]["rewards"]["accuracy"] == out[2]["rewards"]["accuracy"] == 1.0


def test_hard_timeout_stops_a_stuck_worker(scorer):
    records = [rec(1), rec(2, f"{PLUGINS}:stuck"), rec(3), rec(4)]
    out = scorer.score(records)
    assert "worker was stopped" in out[1]["error"]
    assert [r["rewards"]["accuracy"] for r in (out[0], out[2], out[3])] == [1.0, 1.0, 1.0]


def test_a_crashed_worker_is_replaced(scorer):
    out = scorer.score([rec(1, f"{PLUGINS}:crash"), rec(2)])
    assert "worker crashed" in out[0]["error"] and out[1]["rewards"]["accuracy"] == 1.0
    assert scorer.score([rec(5)])[0]["rewards"]["accuracy"] == 1.0


def test_in_process_mode_with_zero_workers():
    out = list(score_records([rec(i) for i in range(5)], RewardConfig(workers=0)))
    assert [r["rewards"]["accuracy"] for r in out] == [1.0] * 5


def test_forkserver_workers_load_file_verifiers():
    cfg = RewardConfig(workers=1)  # the library default start method
    out = list(score_records([rec(1, f"{PLUGINS}:always_half")], cfg))
    assert out[0]["rewards"]["accuracy"] == 0.5


def test_a_memory_hog_gets_an_error_not_the_machine():
    cfg = RewardConfig(workers=1, timeout=5, start_method="fork", memory_limit_mb=256)
    out = list(score_records([rec(1, f"{PLUGINS}:hog"), rec(2)], cfg))
    assert "MemoryError" in out[0]["error"] and out[1]["rewards"]["accuracy"] == 1.0


def wrong(i):
    """A record whose response is wrong by construction: accuracy must be 0."""
    r = rec(i)
    r["response"] = f"<think>t</think><answer>{i + 1000}</answer>"
    return r


def test_an_abandoned_iterator_does_not_leak_results_into_the_next_call(scorer):
    it = scorer.iter_score([rec(i) for i in range(200)])
    next(it)  # the caller stops reading: up to a window of right answers are still queued
    del it
    out = scorer.score([wrong(i) for i in range(40)])
    assert [r["id"] for r in out] == [f"q{i}" for i in range(40)]
    assert [r["rewards"]["accuracy"] for r in out] == [0.0] * 40


def test_a_smaller_call_after_an_abandoned_one_gets_exactly_its_records(scorer):
    it = scorer.iter_score([rec(i) for i in range(100)])
    next(it)
    out = scorer.score([wrong(7)])
    assert len(out) == 1 and out[0]["id"] == "q7" and out[0]["rewards"]["accuracy"] == 0.0


def test_a_superseded_iterator_refuses_to_go_on(scorer):
    first = scorer.iter_score([rec(i) for i in range(50)])
    next(first)
    scorer.score([rec(1)])
    with pytest.raises(RuntimeError, match="superseded"):
        next(first)


def test_a_spawned_worker_loads_the_plugin_the_parent_allowed():
    """Workers that do not inherit the parent's registry (spawn, forkserver) load an allowed
    file.py:function themselves; data alone could not have made either process load it."""
    config = RewardConfig(workers=1, start_method="spawn", verifier=f"{PLUGINS}:always_half",
                          weights={"accuracy": 1.0})
    with RewardScorer(config) as scorer:
        out = scorer.score([{"id": "a", "sample": 0, "answer": "1", "response": "<answer>1</answer>"}])
    assert "error" not in out[0], out[0].get("error")
    assert out[0]["rewards"]["accuracy"] == 0.5


def test_a_workers_start_up_and_plugin_import_do_not_count_against_a_records_deadline():
    """Under load a spawned worker may take longer to start (import mmrl, import the plugin) than
    one record may take; the record is still scored, not failed as a timeout."""
    config = RewardConfig(workers=1, start_method="spawn", timeout=0.1, verifier=f"{SLOW_IMPORT}:quick",
                          weights={"accuracy": 1.0})
    with RewardScorer(config) as scorer:
        out = scorer.score([{"id": "a", "sample": 0, "answer": "1", "response": "<answer>1</answer>"}])
    assert "error" not in out[0], out[0].get("error")
    assert out[0]["rewards"]["accuracy"] == 1.0
