"""Text-only models in `mmrl rollout` and `mmrl grpo` (hf backend): the tiny text Qwen2."""
from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def text_model(tmp_path_factory) -> str:
    from mmrl.model.tiny import init_tiny

    return init_tiny(tmp_path_factory.mktemp("text") / "m", "text", seed=0)["path"]


@pytest.fixture
def text_data(tmp_path) -> str:
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps({"id": f"s{i}", "question": f"What is {i} + {i}?", "answer": str(2 * i)}) + "\n"
                            for i in range(4)), encoding="utf-8")
    return str(path)


def test_rollout_draws_from_a_text_only_model(cli, text_model, text_data, tmp_path):
    out = tmp_path / "r.jsonl"
    result = cli("rollout", "--model", text_model, "--data", text_data, "-n", "2", "-o", str(out),
                 "--max-new-tokens", "4", "--seed", "0")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["id"], r["sample"]) for r in records] == [(f"s{i}", j) for i in range(4) for j in (0, 1)]
    assert all(1 <= r["num_tokens"] <= 4 and r["finish_reason"] in ("stop", "length") for r in records)


def test_grpo_trains_a_text_only_model(cli, text_model, text_data, tmp_path):
    out = tmp_path / "run"
    result = cli("grpo", "--model", text_model, "--data", text_data, "--out", str(out), "--max-steps", "2",
                 "--batch-size", "2", "--group-size", "2", "--max-new-tokens", "4", "--reward-workers", "0")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and (out / "model.safetensors").exists()
