"""Input that is not JSON or not UTF-8, in every command that reads records (issue 9, item 5).

Each case: exit status 2 and the message ``PATH:LINE: field: reason``, no traceback.
"""
from __future__ import annotations


def test_eval_json_data_with_nan_is_a_located_error(cli, tmp_path):
    src = tmp_path / "rows.json"
    src.write_text('[{"id": "a", "question": "q", "answer": NaN}]', encoding="utf-8")
    result = cli("eval", "spec", "--model", str(tmp_path / "no-model"), "--data", str(src), "-o", str(tmp_path / "o"))
    assert result.exit_code == 2, result.output
    assert f"{src}: [0].answer: NaN is not valid JSON" in result.stderr


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
