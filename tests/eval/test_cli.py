"""``mmrl eval`` from the command line: run with the tiny model, prepare, score, compare, errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.eval.eval_helpers import fixture_path

from mmrl.io.jsonl import read_jsonl


def summary_of(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


@pytest.fixture(scope="module")
def tiny_run(tiny_model_dir, tmp_path_factory):
    """``mmrl eval mathvista`` with the tiny model on the shipped records (greedy, short)."""
    from typer.testing import CliRunner

    from mmrl_cli.main import app

    out = tmp_path_factory.mktemp("tiny-run")
    result = CliRunner().invoke(app, ["eval", "mathvista", "--model", tiny_model_dir, "--data",
                                      fixture_path("mathvista"), "-o", str(out), "--max-new-tokens", "8"])
    assert result.exit_code == 0, result.output
    return out, result


def test_run_writes_audit_summary_and_samples(tiny_run):
    out, _ = tiny_run
    assert {p.name for p in out.iterdir()} >= {"samples.jsonl", "predictions.jsonl", "summary.json", "run.json"}
    rows = read_jsonl(out / "predictions.jsonl")
    assert [r["id"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    for r in rows:
        assert {"response", "extracted", "normalised", "correct", "rule", "detail", "finish_reason"} <= set(r)
        assert r["model"] == str(r["model"]) and r["sample"] == 0
    s = summary_of(out)
    assert (s["benchmark"], s["n"], s["judge"], s["split"]) == ("mathvista", 6, None, "testmini")
    assert s["accuracy"] == sum(r["correct"] for r in rows) / 6
    assert set(s["breakdowns"]) >= {"question_type", "answer_type", "task", "context", "grade", "skills", "source"}


def test_run_prints_the_breakdown_table(tiny_run):
    _, result = tiny_run
    assert "question_type" in result.output and "judge: none" in result.output


def test_resume_keeps_finished_draws_and_refuses_other_settings(tiny_run, cli, tiny_model_dir):
    out, _ = tiny_run
    before = (out / "predictions.jsonl").read_text()
    args = ["eval", "mathvista", "--model", tiny_model_dir, "--data", fixture_path("mathvista"), "-o", str(out)]
    result = cli(*args, "--max-new-tokens", "8", "--resume")
    assert result.exit_code == 0, result.output
    assert (out / "predictions.jsonl").read_text() == before
    result = cli(*args, "--max-new-tokens", "9", "--resume")
    assert result.exit_code == 2 and "--resume with different sampling" in result.output


def test_score_existing_rollouts_and_compare_two_runs(tmp_path, cli):
    prep = tmp_path / "prep"
    assert cli("eval", "prepare", "chartqa", "--data", fixture_path("chartqa"), "-o", str(prep)).exit_code == 0
    samples = read_jsonl(prep / "samples.jsonl")
    for name, answers in (("a", ["26", "0.45", "blue", "0"]), ("b", ["26", "45%", "Orange", "1"])):
        rollouts = prep / f"{name}.jsonl"
        rollouts.write_text("".join(json.dumps({**s, "sample": 0, "response": f"<answer>{a}</answer>",
                                                "finish_reason": "stop", "num_tokens": 3, "model": name}) + "\n"
                                    for s, a in zip(samples, answers)))
        result = cli("eval", "score", "chartqa", str(rollouts), "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    assert summary_of(tmp_path / "a")["accuracy"] == 0.75 and summary_of(tmp_path / "b")["accuracy"] == 0.75
    assert summary_of(tmp_path / "a")["breakdowns"]["type"]["human"] == {"accuracy": 0.5, "correct": 1, "total": 2}
    result = cli("eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "cmp.json"))
    assert result.exit_code == 0, result.output
    assert "Δ b" in result.output
    rows = {(r["group"], r["value"]): r for r in json.loads((tmp_path / "cmp.json").read_text())["rows"]}
    assert rows[("type", "human")]["deltas"] == [0.5] and rows[("type", "augmented")]["deltas"] == [-0.5]


def test_bad_rollout_record_is_reported_with_file_and_line(tmp_path, cli):
    bad = tmp_path / "r.jsonl"
    bad.write_text(json.dumps({"id": "x", "response": "1", "answer": "1"}) + "\n" + json.dumps({"id": "y"}) + "\n")
    result = cli("eval", "score", "chartqa", str(bad), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert f"{bad}:2: response: required field is missing" in result.output


def test_unknown_benchmark_and_split_are_clear_errors(cli, tmp_path):
    result = cli("eval", "nosuch", "--model", "m", "-o", str(tmp_path))
    assert result.exit_code == 2 and "unknown benchmark 'nosuch'" in result.output
    result = cli("eval", "prepare", "mathverse", "--split", "test", "-o", str(tmp_path))
    assert result.exit_code == 2 and "mathverse has no split 'test'" in result.output


def test_list_names_every_benchmark(cli):
    result = cli("eval", "list")
    assert result.exit_code == 0
    for name in ("mathvista", "mathverse", "mathvision", "chartqa", "k12", "geometry3k"):
        assert name in result.output


def test_user_benchmark_from_a_file(tmp_path, cli):
    (tmp_path / "mine.py").write_text(
        "from mmrl.eval.benchmark import Benchmark, Judgement\n"
        "class Echo(Benchmark):\n"
        "    name, summary, hub_id, default_split, splits = 'echo', 'echo', 'x/y', 'test', ('test',)\n"
        "    scorer = 'exact'\n"
        "    def to_sample(self, row, images, index, split):\n"
        "        return {'id': str(index), 'question': row['q'], 'answer': row['a']}\n"
        "    def score(self, response, sample, params, judge=None):\n"
        "        return Judgement(response, response, response == sample['answer'], 'response')\n")
    (tmp_path / "d.jsonl").write_text('{"q": "1+1", "a": "2"}\n')
    result = cli("eval", "prepare", f"{tmp_path / 'mine.py'}:Echo", "--data", str(tmp_path / "d.jsonl"),
                 "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert read_jsonl(tmp_path / "out" / "samples.jsonl") == [{"id": "0", "question": "1+1", "answer": "2"}]


def test_recipe_section_named_after_the_benchmark_sets_run_defaults(tmp_path, cli, tiny_model_dir):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"eval:\n  mathvista:\n    max_new_tokens: 4\n    limit: 2\n    data: {fixture_path('mathvista')}\n")
    result = cli("--config", str(recipe), "eval", "mathvista", "--model", tiny_model_dir, "-o", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    s = summary_of(tmp_path / "o")
    assert (s["n"], s["sampling"]["max_new_tokens"], s["limit"]) == (2, 4, 2)
    recipe.write_text("eval:\n  mathvista:\n    max_new_tokenz: 4\n")
    result = cli("--config", str(recipe), "eval", "mathvista", "--model", tiny_model_dir, "-o", str(tmp_path / "p"))
    assert result.exit_code == 2 and "max_new_tokenz: not an option" in result.output
