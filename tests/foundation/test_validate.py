"""`mmrl data validate` and the SPEC.md record checks."""
from __future__ import annotations

import json

from mmrl.io.schema import check_record, validate_file


def write(path, records_or_lines) -> str:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records_or_lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_synthetic_output_passes_validation(cli, synth_file):
    result = cli("data", "validate", synth_file)
    assert result.exit_code == 0, result.output
    assert "ok: 12 records" in result.stderr


def test_a_broken_line_2_fails_with_exit_2_and_its_location(cli, tmp_path):
    f = write(tmp_path / "bad.jsonl", [{"id": "a", "question": "q"}, '{"id": "b", "question": '])
    result = cli("data", "validate", f)
    assert result.exit_code == 2
    assert f"{f}:2:" in result.stderr


def test_every_problem_is_listed_not_only_the_first(cli, tmp_path):
    f = write(tmp_path / "bad.jsonl", ["{oops", {"id": "b"}, {"id": 3, "question": "q"}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2
    assert f"{f}:1: invalid JSON" in result.stderr
    assert f"{f}:2: question: required field is missing" in result.stderr
    assert f"{f}:3: id: must be a non-empty string" in result.stderr


def test_missing_field_is_named(tmp_path):
    f = write(tmp_path / "d.jsonl", [{"question": "q"}])
    _, errors = validate_file(f)
    assert [str(e) for e in errors] == [f"{f}:1: id: required field is missing"]


def test_wrong_type_is_named(tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "choices": "A or B"}])
    _, errors = validate_file(f)
    assert [str(e) for e in errors] == [f"{f}:1: choices: must be a list of strings"]


def test_missing_image_is_named_with_its_resolved_path(tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["img/none.png"]}])
    _, errors = validate_file(f)
    assert len(errors) == 1
    assert f"{f}:1: images[0]: image file not found: {tmp_path / 'img/none.png'}" == str(errors[0])


def test_duplicate_ids_are_reported(tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q"}, {"id": "a", "question": "r"}])
    _, errors = validate_file(f)
    assert [str(e) for e in errors] == [f"{f}:2: id: duplicate id 'a' (first on line 1)"]


def test_rollouts_of_one_sample_may_share_an_id(tmp_path):
    base = {"id": "a", "question": "q", "response": "r", "finish_reason": "stop", "num_tokens": 1, "model": "m"}
    f = write(tmp_path / "d.jsonl", [{**base, "sample": 0}, {**base, "sample": 1}])
    assert validate_file(f)[1] == []


def test_scored_record_needs_its_reward_components():
    rec = {"id": "a", "question": "q", "sample": 0, "response": "r", "finish_reason": "stop", "num_tokens": 1,
           "model": "m", "extracted": None, "rewards": {"accuracy": 1.0, "total": 1.0}}
    fields = {p.field for p in check_record(rec)}
    assert fields == {"rewards.format", "rewards.style"}


def test_an_error_forces_a_zero_total():
    rec = {"id": "a", "question": "q", "sample": 0, "response": "r", "finish_reason": "stop", "num_tokens": 1,
           "model": "m", "extracted": None, "error": "timeout",
           "rewards": {"accuracy": 0.0, "format": 1.0, "style": 1.0, "total": 0.5}}
    assert [p.field for p in check_record(rec)] == ["rewards.total"]


def test_finish_reason_must_be_one_of_the_three():
    rec = {"id": "a", "question": "q", "sample": 0, "response": "r", "finish_reason": "eos", "num_tokens": 1,
           "model": "m"}
    assert [p.field for p in check_record(rec)] == ["finish_reason"]


def test_graded_record_checks_its_counts():
    rec = {"id": "a", "question": "q", "n": 4, "correct": 5, "pass_at_k": {"1": 1.2}, "mean_reward": 0.5,
           "difficulty": 0.0}
    assert {p.field for p in check_record(rec)} == {"correct", "pass_at_k"}


def test_kind_can_be_forced(tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q"}])
    _, errors = validate_file(f, kind="rollout")
    assert {e.field for e in errors} == {"sample", "response", "finish_reason", "num_tokens", "model"}
