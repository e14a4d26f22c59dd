"""`mmrl data validate` and the SPEC.md record checks."""
from __future__ import annotations

import json

import pytest

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


# What records refer to (issue 9, item 6): `data validate` is the strictest check there is.

def _png(path, size=(8, 8)):
    from PIL import Image

    Image.new("RGB", size, (0, 128, 255)).save(path)
    return path


def test_an_image_file_that_is_not_an_image_is_reported(cli, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["bad.png"]}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2, result.output
    assert f"{f}:1: images[0]: cannot decode image {tmp_path / 'bad.png'}" in result.stderr


def test_a_truncated_image_is_reported_because_validate_decodes_every_pixel(cli, tmp_path):
    from PIL import Image

    Image.effect_noise((64, 64), 50).convert("RGB").save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["cut.jpg"]}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2, result.output
    assert f"{f}:1: images[0]: cannot decode image {tmp_path / 'cut.jpg'}: image file is truncated" in result.stderr


def test_a_data_uri_that_is_not_an_image_is_reported(cli, tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["data:image/png;base64,aGVsbG8="]}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2 and f"{f}:1: images[0]: cannot decode image data URI" in result.stderr


def test_an_image_the_model_cannot_take_is_reported(cli, tmp_path):
    _png(tmp_path / "thin.png", size=(600, 2))
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["thin.png"]}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2 and f"{f}:1: images[0]: aspect ratio must be below 200, got 300.0" in result.stderr


def test_good_images_pass(cli, tmp_path):
    _png(tmp_path / "ok.png")
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["ok.png"]}])
    result = cli("data", "validate", f)
    assert result.exit_code == 0, result.output


def test_an_unknown_verifier_is_reported(cli, tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "reward": {"verifier": "nosuch"}}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2, result.output
    assert f"{f}:1: reward.verifier: unknown verifier 'nosuch'; known: " in result.stderr


def test_benchmark_verifiers_resolve(cli, tmp_path):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "reward": {"verifier": "chartqa"}}])
    assert cli("data", "validate", f).exit_code == 0


def test_a_user_verifier_that_loads_passes(cli, tmp_path):
    from pathlib import Path

    plugins = Path(__file__).parents[1] / "rewards" / "plugins.py"
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "reward": {"verifier": f"{plugins}:always_half"}}])
    result = cli("--allow-verifier", f"{plugins}:always_half", "data", "validate", f)
    assert result.exit_code == 0, result.output


def test_a_user_verifier_that_does_not_load_is_reported(cli, tmp_path):
    missing = tmp_path / "mine.py"
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "reward": {"verifier": f"{missing}:score"}}])
    result = cli("--allow-verifier", f"{missing}:score", "data", "validate", f)
    assert result.exit_code == 2, result.output
    assert f"{missing}:score: no such file {missing}" in result.stderr


def test_a_step_verifier_names_an_answer_verifier_that_must_resolve(cli, tmp_path):
    rec = {"id": "a", "question": "q", "reward": {"verifier": "steprar", "params": {"answer_verifier": "nope"}}}
    f = write(tmp_path / "d.jsonl", [rec])
    result = cli("data", "validate", f)
    assert result.exit_code == 2 and f"{f}:1: reward.params.answer_verifier: unknown verifier 'nope'" in result.stderr


@pytest.mark.parametrize("param, value, allowed", [("fallback", "last_word", "none, last_line, last_number, full, math"),
                                                   ("format_mode", "loose", "strict, lenient"),
                                                   ("boxes", "middle", "last, first, all")])
def test_shared_reward_params_must_hold_a_value_scoring_accepts(cli, tmp_path, param, value, allowed):
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "reward": {"params": {param: value}}}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2
    assert f"{f}:1: reward.params.{param}: must be one of {allowed}, got {value!r}" in result.stderr


def test_every_problem_of_every_kind_is_listed(cli, tmp_path):
    (tmp_path / "bad.png").write_bytes(b"junk")
    f = write(tmp_path / "d.jsonl", [{"id": "a", "question": "q", "images": ["bad.png"]},
                                     '{"id": "b", "question": NaN}',
                                     {"id": "c", "question": "q", "reward": {"verifier": "nosuch"}}])
    result = cli("data", "validate", f)
    assert result.exit_code == 2
    lines = [line.split(": ")[0] for line in result.stderr.splitlines() if line.startswith(f)]
    assert lines == [f"{f}:1", f"{f}:2", f"{f}:3"]
