"""Each stage refuses at start-up what a later stage of the pipeline would refuse (issue 9, item 6).

A sample with an image that does not open, or a verifier this build does not have, used to pass
rollout (and eval, warmup-sft) and fail later: the image when its prompt was built, the verifier
at reward, after the GPU hours were spent. A rollout with an integer id passed reward and failed
at grade. The model named below does not exist: the data error coming first shows that records
are checked before a model would be loaded.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLE = {"id": "a", "question": "1+1?", "answer": "2", "response": "<think>add</think><answer>2</answer>"}
ROLLOUT = {**SAMPLE, "sample": 0, "finish_reason": "stop", "num_tokens": 4, "model": "m"}

READERS_OF_SAMPLES = {
    "rollout": lambda f, m, t: ["rollout", "--model", m, "--data", f, "-o", str(t / "out.jsonl")],
    "grade --model": lambda f, m, t: ["grade", f, "--model", m, "-o", str(t / "out.jsonl")],
    "eval spec": lambda f, m, t: ["eval", "spec", "--model", m, "--data", f, "-o", str(t / "out")],
    "eval prepare": lambda f, m, t: ["eval", "prepare", "spec", "--data", f, "-o", str(t / "out")],
    "warmup-sft": lambda f, m, t: ["warmup-sft", "--model", m, "--data", f, "--out", str(t / "out"),
                                   "--max-steps", "1"],
}


def _input(tmp_path: Path, records: list[dict]) -> Path:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return src


def _outputs(tmp_path: Path, src: Path) -> list[Path]:
    """Files written: anything but the input and its image."""
    return [p for p in tmp_path.rglob("*") if p.is_file() and p not in (src, tmp_path / "bad.png")]


@pytest.mark.parametrize("command", list(READERS_OF_SAMPLES))
def test_an_image_that_does_not_open_is_refused_at_start_up(cli, tmp_path, command):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    src = _input(tmp_path, [{**SAMPLE, "id": "ok"}, {**SAMPLE, "images": ["bad.png"]}])
    result = cli(*READERS_OF_SAMPLES[command](str(src), str(tmp_path / "no-such-model"), tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{src}:2: images[0]: cannot decode image {tmp_path / 'bad.png'}" in result.stderr
    assert _outputs(tmp_path, src) == []


@pytest.mark.parametrize("command", list(READERS_OF_SAMPLES))
def test_an_unknown_verifier_is_refused_at_start_up(cli, tmp_path, command):
    src = _input(tmp_path, [{**SAMPLE, "id": "ok"}, {**SAMPLE, "reward": {"verifier": "nosuch"}}])
    result = cli(*READERS_OF_SAMPLES[command](str(src), str(tmp_path / "no-such-model"), tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{src}:2: reward.verifier: unknown verifier 'nosuch'" in result.stderr
    assert _outputs(tmp_path, src) == []


@pytest.mark.parametrize("command", list(READERS_OF_SAMPLES))
def test_a_bad_shared_reward_param_is_refused_at_start_up(cli, tmp_path, command):
    src = _input(tmp_path, [{**SAMPLE, "reward": {"verifier": "math", "params": {"fallback": "guess"}}}])
    result = cli(*READERS_OF_SAMPLES[command](str(src), str(tmp_path / "no-such-model"), tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{src}:1: reward.params.fallback: must be one of none, last_line, last_number, full" in result.stderr


def test_rollout_checks_every_sample_before_drawing_any(cli, tiny_model_dir, synth_file, tmp_path):
    from mmrl.io.jsonl import read_jsonl

    rows = read_jsonl(synth_file)[:3]
    rows[2]["reward"] = {"verifier": "nosuch"}
    images = Path(synth_file).parent / "images"
    (tmp_path / "images").symlink_to(images)
    src = _input(tmp_path, rows)
    out = tmp_path / "r.jsonl"
    out.write_text('{"id": "kept"}\n', encoding="utf-8")
    result = cli("rollout", "-m", tiny_model_dir, "-d", str(src), "-o", str(out), "--max-new-tokens", "2")
    assert result.exit_code == 2, result.output
    assert f"{src}:3: reward.verifier: unknown verifier 'nosuch'" in result.stderr
    assert out.read_text(encoding="utf-8") == '{"id": "kept"}\n'  # the old output is not cut either


# reward refuses what grade, next, would refuse

REWARD_REFUSES = {
    "an integer id": ({**ROLLOUT, "id": 7}, "id: must be a non-empty string, got int"),
    "an empty id": ({**ROLLOUT, "id": ""}, "id: must be a non-empty string, got str"),
    "a string sample": ({**ROLLOUT, "sample": "0"}, "sample: must be an integer, got str"),
    "a negative sample": ({**ROLLOUT, "sample": -1}, "sample: must be >= 0"),
    "a bad finish_reason": ({**ROLLOUT, "finish_reason": "eos"}, "finish_reason: must be one of stop, length, forced"),
    "a float num_tokens": ({**ROLLOUT, "num_tokens": 4.5}, "num_tokens: must be an integer, got float"),
}


@pytest.mark.parametrize("case", list(REWARD_REFUSES))
def test_reward_refuses_a_draw_that_grade_would_refuse(cli, tmp_path, case):
    record, message = REWARD_REFUSES[case]
    src = _input(tmp_path, [{**ROLLOUT, "id": "ok"}, record])
    before = src.read_bytes()
    result = cli("reward", str(src), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 2, result.output
    assert f"{src}:2: {message}" in result.stderr
    assert not (tmp_path / "o.jsonl").exists() and src.read_bytes() == before


def test_reward_refuses_the_same_draw_twice(cli, tmp_path):
    src = _input(tmp_path, [ROLLOUT, {**ROLLOUT, "response": "again"}])
    result = cli("reward", str(src), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 2, result.output
    assert f"{src}:2: sample: duplicate draw 0 of id 'a' (first on line 1)" in result.stderr


def test_reward_still_scores_draws_without_the_optional_rollout_fields(cli, tmp_path):
    src = _input(tmp_path, [{"id": "a", "answer": "2", "response": "<answer>2</answer>"}])
    result = cli("reward", str(src), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 0, result.output


def test_eval_score_refuses_an_unknown_verifier_instead_of_scoring_it_wrong(cli, tmp_path):
    src = _input(tmp_path, [{**ROLLOUT, "reward": {"verifier": "nosuch"}}])
    result = cli("eval", "score", "spec", str(src), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert f"{src}:1: reward.verifier: unknown verifier 'nosuch'" in result.stderr
    assert _outputs(tmp_path, src) == []
