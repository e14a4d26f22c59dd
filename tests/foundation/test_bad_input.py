"""Input that is not JSON or not UTF-8, in every command that reads records (issue 9, item 5).

Each case: exit status 2, the message ``PATH:LINE: field: reason``, no traceback, the input file
unchanged and no output written. The model named is one that does not exist: records are
checked before a model is loaded, so the data error is what the user sees.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

SAMPLE = {"id": "a", "question": "1+1?", "answer": "2", "response": "<think>add</think><answer>2</answer>"}
ROLLOUT = {**SAMPLE, "sample": 0, "finish_reason": "stop", "num_tokens": 4, "model": "m"}
SCORED = {**ROLLOUT, "extracted": "2", "rewards": {"accuracy": 1.0, "format": 1.0, "style": 1.0, "total": 1.0}}

# (name, record kind the command reads, arguments given the input file, the model and tmp_path)
COMMANDS = {
    "data validate": (SAMPLE, lambda f, m, t: ["data", "validate", f]),
    "rollout": (SAMPLE, lambda f, m, t: ["rollout", "--model", m, "--data", f, "-o", str(t / "out.jsonl")]),
    "reward": (ROLLOUT, lambda f, m, t: ["reward", f, "-o", str(t / "out.jsonl"), "--workers", "0"]),
    "grade": (SCORED, lambda f, m, t: ["grade", f, "-o", str(t / "out.jsonl")]),
    "grade --model": (SAMPLE, lambda f, m, t: ["grade", f, "--model", m, "-o", str(t / "out.jsonl")]),
    "eval spec": (SAMPLE, lambda f, m, t: ["eval", "spec", "--model", m, "--data", f, "-o", str(t / "out")]),
    "eval score": (ROLLOUT, lambda f, m, t: ["eval", "score", "spec", f, "-o", str(t / "out")]),
    "warmup-sft": (SAMPLE, lambda f, m, t: ["warmup-sft", "--model", m, "--data", f, "--out", str(t / "out"),
                                            "--max-steps", "1"]),
}


def _lines(record: dict, bad: bytes) -> bytes:
    """Two lines: a good record, then the same record with ``bad`` as its ``question`` value."""
    good = json.dumps({**record, "id": "ok"}).encode()
    text = json.dumps({**record, "question": "@@"}).encode().replace(b'"@@"', bad)
    return good + b"\n" + text + b"\n"


BAD = {
    "NaN": (b"NaN", "question: NaN is not valid JSON (use a number or null)"),
    "Infinity": (b"-Infinity", "question: -Infinity is not valid JSON (use a number or null)"),
    "lone surrogate": (b'"x\\ud800"', "question: lone surrogate \\ud800 in a string (not valid Unicode text)"),
    "not UTF-8": (b'"\xff"', None),  # the column depends on the record: computed below
}


def _expected(data: bytes, reason: str | None) -> str:
    if reason is not None:
        return reason
    column = data.split(b"\n")[1].index(0xFF) + 1
    return f"not UTF-8 text: byte 0xff at column {column} (save the file as UTF-8)"


def _no_output(tmp_path: Path, src: Path) -> bool:
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != src]
    return written == []


@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_bad_json_or_text_is_a_located_error_in_every_command(cli, tmp_path, command, bad):
    record, args = COMMANDS[command]
    src = tmp_path / "in.jsonl"
    data = _lines(record, BAD[bad][0])
    src.write_bytes(data)
    result = cli(*args(str(src), str(tmp_path / "no-such-model"), tmp_path))
    assert result.exit_code == 2, result.output
    assert f"{src}:2: {_expected(data, BAD[bad][1])}" in result.stderr
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert src.read_bytes() == data
    assert _no_output(tmp_path, src)


@pytest.mark.parametrize("command", ["rollout", "reward", "grade"])
@pytest.mark.parametrize("bad", list(BAD))
def test_bad_json_or_text_on_stdin_is_a_located_error(cli, tmp_path, command, bad):
    record, _ = COMMANDS[command]
    data = _lines(record, BAD[bad][0])
    args = {"rollout": ["rollout", "--model", str(tmp_path / "no-such-model"), "--data", "-"],
            "reward": ["reward", "-", "--workers", "0"], "grade": ["grade", "-"]}[command]
    result = cli(*args, input=data)
    assert result.exit_code == 2, result.output
    assert f"<stdin>:2: {_expected(data, BAD[bad][1])}" in result.stderr
    assert result.stdout == ""


def test_eval_json_data_with_nan_is_a_located_error(cli, tmp_path):
    src = tmp_path / "rows.json"
    src.write_text('[{"id": "a", "question": "q", "answer": NaN}]', encoding="utf-8")
    result = cli("eval", "spec", "--model", str(tmp_path / "no-model"), "--data", str(src), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    assert f"{src}:1: answer: NaN is not valid JSON" in result.stderr


def test_eval_json_data_that_is_not_utf8_is_a_located_error(cli, tmp_path):
    src = tmp_path / "rows.json"
    src.write_bytes(b'[\n{"id": "a", "question": "\xe9"}]')
    result = cli("eval", "spec", "--model", str(tmp_path / "no-model"), "--data", str(src), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    assert f"{src}:2: not UTF-8 text: byte 0xe9 at column 26" in result.stderr


def test_eval_compare_summary_with_infinity_is_a_located_error(cli, tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text('{"benchmark": "spec", "accuracy": Infinity, "breakdowns": {}}', encoding="utf-8")
    result = cli("eval", "compare", str(summary))
    assert result.exit_code == 2, result.output
    assert f"{summary}: accuracy: Infinity is not valid JSON" in result.stderr


def test_a_recipe_that_is_not_utf8_is_a_located_error(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_bytes(b"data:\n  synth:\n    task: \xff\n")
    result = cli("--config", str(recipe), "data", "synth", "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2, result.output
    assert f"{recipe}:3: not UTF-8 text: byte 0xff at column 11" in result.stderr


def test_a_deepspeed_config_that_is_not_utf8_is_a_located_error(tmp_path):
    from mmrl.errors import DataError
    from mmrl.train.distributed import load_ds_config

    ds = tmp_path / "zero2.json"
    ds.write_bytes(b'{\n  "zero_optimization": {"stage": 2}, "comment": "\xe9"\n}')
    with pytest.raises(DataError, match=r"zero2\.json:2: not UTF-8 text: byte 0xe9 at column 50"):
        load_ds_config(ds)
