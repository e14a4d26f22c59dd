"""Training commands given values, models and checkpoints they cannot use (issue 20, items 2, 7,
9-15 and the small ones): each row exits 2 with a message naming the flag, file or step, before
any harm is done, with no traceback, and leaves its inputs as they were.

Rows that need a finished run to damage share one (``run_dir``), copied per row.
"""
from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from tests.adversarial.harness import Case, check


def grpo(*extra: str, data: str = "data", out: str = "out"):
    """``mmrl grpo`` on the tiny model, one tiny step, plus ``extra``."""
    def args(tmp: Path, fx: dict) -> list[str]:
        return ["grpo", "--model", fx["model"], "--data", fx[data], "--out", str(tmp / out), "--batch-size", "2",
                "-G", "2", "--max-steps", "1", "--max-new-tokens", "4", "--reward-workers", "0", "--beta", "0",
                *[e.format(plugins=fx["plugins"], tmp=tmp) for e in extra]]
    return args


def sft(*extra: str):
    def args(tmp: Path, fx: dict) -> list[str]:
        return ["warmup-sft", "--model", fx["model"], "--data", fx["data"], "--out", str(tmp / "out"),
                "--max-steps", "1", *extra]
    return args


def guard_data(tmp: Path, fx: dict) -> list[Path]:
    return [Path(fx["data"]), Path(fx["model"])]


FLAG_CASES = [
    # 7: a checkpoint limit that keeps nothing
    Case("save-total-limit-negative", "7", grpo("--save-total-limit", "-1"), "--save-total-limit"),
    Case("save-total-limit-zero", "7", grpo("--save-total-limit", "0"), "--save-total-limit"),
    # 10: values that train silently wrong
    Case("lr-inf", "10", grpo("--lr", "inf"), "--lr"),
    Case("lr-nan", "10", grpo("--lr", "nan"), "--lr"),
    Case("max-grad-norm-negative", "10", grpo("--max-grad-norm", "-1"), "--max-grad-norm"),
    Case("temperature-nan", "10", grpo("--temperature", "nan"), "--temperature"),
    Case("beta-nan", "10", grpo("--beta", "nan"), "--beta"),
    Case("dual-clip-nan", "10", grpo("--dual-clip", "nan"), "--dual-clip"),
    Case("clip-high-nan", "10", grpo("--clip-high", "nan"), "--clip-high"),
    Case("entropy-coef-nan", "10", grpo("--entropy-coef", "nan"), "--entropy-coef"),
    Case("overlong-penalty-nan", "10", grpo("--overlong-penalty", "nan"), "--overlong-penalty"),
    Case("max-refill-negative", "10", grpo("--max-refill", "-1"), "--max-refill"),
    Case("warmup-ratio-above-1", "10", grpo("--warmup-ratio", "1.5"), "--warmup-ratio"),
    Case("warmup-ratio-negative", "10", grpo("--warmup-ratio", "-0.1"), "--warmup-ratio"),
    Case("weight-decay-negative", "10", grpo("--weight-decay", "-1"), "--weight-decay"),
    Case("min-pixels-above-max", "10", grpo("--min-pixels", "5000", "--max-pixels", "100"), "--min-pixels"),
    Case("max-prompt-length-zero", "10", grpo("--max-prompt-length", "0"), "--max-prompt-length"),
    Case("sft-lr-inf", "10", sft("--lr", "inf"), "--lr"),
    Case("sft-max-grad-norm-negative", "10", sft("--max-grad-norm", "-1"), "--max-grad-norm"),
    Case("sft-weight-decay-negative", "10", sft("--weight-decay", "-1"), "--weight-decay"),
    # 12: values that used to reach torch, numpy or peft after the model loaded
    Case("lr-negative", "12", grpo("--lr", "-0.1"), "--lr"),
    Case("seed-negative", "12", grpo("--seed", "-1"), "--seed"),
    Case("seed-too-large", "12", grpo("--seed", str(2**32)), "--seed"),
    Case("lora-r-zero", "12", grpo("--lora", "--lora-r", "0"), "--lora-r"),
    Case("lora-targets-unknown", "12", grpo("--lora", "--lora-targets", "no_such_module"), "--lora-targets"),
    Case("max-pixels-zero", "12", grpo("--max-pixels", "0"), "--max-pixels"),
    Case("device-unknown", "12", grpo("--device", "tpu7"), "--device"),
    Case("sft-seed-negative", "12", sft("--seed", "-1"), "--seed"),
    Case("sft-device-unknown", "12", sft("--device", "tpu7"), "--device"),
    Case("sft-lora-targets-unknown", "12", sft("--lora", "--lora-targets", "no_such_module"), "--lora-targets"),
    # registry names: misspelled, before any model loads (issue 21/22 ask the same)
    Case("advantage-unknown", "12", grpo("--advantage", "grp0"), "unknown advantage estimator 'grp0'"),
    Case("kl-estimator-unknown", "12", grpo("--kl-estimator", "k9"), "k9"),
    Case("kl-estimator-unknown-at-beta-0", "12", grpo("--kl-estimator", "k9", "--beta", "0"), "k9"),
    Case("group-filter-unknown", "12", grpo("--group-filter", "nonconstnat"), "nonconstnat"),
    Case("loss-agg-unknown", "12", grpo("--loss-agg", "token_mean"), "token_mean"),
    Case("verifier-unknown", "12", grpo("--verifier", "maths"), "maths"),
    Case("scheduler-unknown", "12", grpo("--scheduler", "cosin"), "cosin"),
    Case("rollout-backend-unknown", "12", grpo("--rollout-backend", "vlm"), "vlm"),
    # the small ones
    Case("resume-and-overwrite", "small", grpo("--resume", "--overwrite"), "--resume and --overwrite"),
]

DATA_CASES = [
    # 11: samples that cannot be scored
    Case("no-answer", "11", grpo(data="no_answer"), "answer"),
    Case("answer-column-missing", "11", grpo("--columns", "answer=nosuchcol"), "nosuchcol"),
    Case("one-column-two-fields", "11", grpo("--columns", "answer=question,question=question"),
         "mapped to two fields"),
    Case("weights-unknown-component", "11", grpo("--weights", "nosuch=1", "--reward-spec", "config"), "every reward of step 1 was an error"),
    Case("every-reward-an-error", "11", grpo("--verifier", "{plugins}:broken", "--reward-spec", "config"),
         "every reward of step 1 was an error"),
    # 15: values a verifier or estimator must not return
    Case("advantage-wrong-shape", "15", grpo("--advantage", "{plugins}:wrong_shape", "--verifier",
                                             "{plugins}:overfull", "--reward-spec", "config", "--max-refill", "0"),
         "{plugins}:wrong_shape".split(":")[1]),
]



@pytest.mark.parametrize("verifier, weights, expected", [("huge", "bonus=10", "is not finite"),
                                                          ("overfull", "accuracy=1", "accuracy=2.0")])
def test_a_verifier_value_that_would_poison_the_rewards_is_a_record_error(cli, tmp_path, fixtures, verifier, weights,
                                                                          expected):
    """Item 15: 1e308 weighted by 10 is infinite, an accuracy of 2 is no pass rate: the record
    carries an error and a total of 0, and the file is still valid JSON."""
    import json

    rollout = tmp_path / "rollout.jsonl"
    record = json.loads(Path(fixtures["data"]).read_text(encoding="utf-8").splitlines()[0])
    record.update(sample=0, response="<think>x</think><answer>1</answer>", finish_reason="stop", num_tokens=4,
                  model="m")
    rollout.write_text(json.dumps(record) + "\n", encoding="utf-8")
    out = tmp_path / "scored.jsonl"
    result = cli("reward", str(rollout), "-o", str(out), "--workers", "0", "--verifier",
                 f"{fixtures['plugins']}:{verifier}", "--weights", weights, "--reward-spec", "config")
    assert result.exit_code == 0, result.output
    scored = json.loads(out.read_text(encoding="utf-8"))
    assert expected in scored["error"] and scored["rewards"]["total"] == 0.0


@pytest.mark.parametrize("case", FLAG_CASES, ids=str)
def test_a_bad_value_is_refused_before_any_model_loads(cli, tmp_path, fixtures, case, monkeypatch):
    from mmrl.model import loading

    if case.id not in {"lora-targets-unknown", "sft-lora-targets-unknown"}:
        def no_model(*a, **k):
            raise AssertionError("a model was loaded before the bad value was refused")
        monkeypatch.setattr(loading, "load_model", no_model)
    check(cli, Case(case.id, case.item, case.args, case.message, case.exit_code, guard_data), tmp_path, fixtures)


@pytest.mark.parametrize("case", DATA_CASES, ids=str)
def test_data_that_cannot_be_scored_stops_the_run(cli, tmp_path, fixtures, case):
    check(cli, Case(case.id, case.item, case.args, case.message, case.exit_code, guard_data), tmp_path, fixtures)
