"""``mmrl reward`` as a command: files and pipes, errors, flags, recipes, resume, start-up cost."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mmrl.io.jsonl import read_jsonl, write_jsonl
from mmrl.io.schema import validate_file

PLUGINS = Path(__file__).parent / "plugins.py"


def rollouts(n=4):
    out = []
    for i in range(n):
        right = i % 2 == 0
        out.append({"id": f"q{i}", "question": "1+1?", "answer": "2", "source": "arith" if i < 2 else "count",
                    "sample": 0, "response": f"<think>add</think><answer>{2 if right else 3}</answer>",
                    "finish_reason": "stop", "num_tokens": 5, "model": "m"})
    return out


def write(tmp_path, records, name="in.jsonl"):
    path = tmp_path / name
    write_jsonl(path, records)
    return str(path)


def test_scores_a_file_into_a_valid_scored_file(cli, tmp_path):
    src, dst = write(tmp_path, rollouts()), tmp_path / "out.jsonl"
    result = cli("reward", src, "-o", str(dst), "--workers", "1")
    assert result.exit_code == 0, result.output
    out = read_jsonl(dst)
    assert [r["rewards"]["accuracy"] for r in out] == [1.0, 0.0, 1.0, 0.0]
    assert validate_file(dst, kind="scored")[1] == []
    assert list(out[0])[:9] == list(rollouts()[0])


def test_summary_table_goes_to_stderr(cli, tmp_path):
    result = cli("reward", write(tmp_path, rollouts()), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert "mean reward" in result.stderr and "arith" in result.stderr and "count" in result.stderr
    assert result.stdout == ""


def test_pipe_from_stdin_to_stdout(cli):
    text = "".join(json.dumps(r) + "\n" for r in rollouts(2))
    result = cli("reward", "-", "--workers", "0", input=text)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in lines] == ["q0", "q1"] and "rewards" in lines[0]


def test_missing_response_is_a_located_error(cli, tmp_path):
    records = rollouts(3)
    del records[1]["response"]
    src = write(tmp_path, records)
    result = cli("reward", src, "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 2 and f"{src}:2: response:" in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_unknown_verifier_is_a_located_error_before_any_work(cli, tmp_path):
    records = rollouts(3)
    records[2]["reward"] = {"verifier": "nope"}
    src = write(tmp_path, records)
    result = cli("reward", src, "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 2 and f"{src}:3: reward.verifier: unknown verifier 'nope'" in result.stderr


def test_unknown_default_verifier_flag(cli, tmp_path):
    result = cli("reward", write(tmp_path, rollouts(1)), "--verifier", "nope", "--workers", "0")
    assert result.exit_code == 2 and "unknown verifier 'nope'" in result.stderr


def test_weights_param_and_format_gate_flags(cli, tmp_path):
    records = [dict(rollouts(1)[0], response="2.04", answer="2")]
    src = write(tmp_path, records)
    result = cli("reward", src, "--verifier", "number", "--weights", "accuracy=0.5,style=0.5",
                 "--param", "rel_tol=0.05", "--workers", "0")
    assert json.loads(result.stdout)["rewards"]["total"] == 1.0
    gated = cli("reward", src, "--verifier", "number", "--param", "rel_tol=0.05", "--format-gate", "--workers", "0")
    assert json.loads(gated.stdout)["rewards"]["total"] == 0.0


def test_user_verifier_from_the_command_line(cli, tmp_path):
    result = cli("reward", write(tmp_path, rollouts(2)), "--verifier", f"{PLUGINS}:always_half",
                 "--weights", "accuracy=1", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["rewards"]["total"] for line in result.stdout.splitlines()] == [0.5, 0.5]


def test_recipe_sets_defaults_and_flags_win(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("reward:\n  verifier: number\n  weights: {accuracy: 1.0}\n  param: {rel_tol: 0.5}\n"
                      "  workers: 0\n")
    src = write(tmp_path, [dict(rollouts(1)[0], response="<answer>2.5</answer>")])
    result = cli("reward", src, "--config", str(recipe))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["rewards"]["total"] == 1.0
    strict = cli("reward", src, "--config", str(recipe), "--param", "rel_tol=0.01")
    assert json.loads(strict.stdout)["rewards"]["total"] == 0.0


def test_resume_scores_only_what_is_missing(cli, tmp_path):
    src, dst = write(tmp_path, rollouts(4)), tmp_path / "o.jsonl"
    first = rollouts(4)[:2]
    for r in first:
        r.update(extracted="kept", rewards={"accuracy": 0.0, "format": 0.0, "style": 0.0, "total": 0.0})
    write_jsonl(dst, first)
    result = cli("reward", src, "-o", str(dst), "--resume", "--workers", "0")
    assert result.exit_code == 0, result.output
    out = read_jsonl(dst)
    assert [r["id"] for r in out] == ["q0", "q1", "q2", "q3"]
    assert [r["extracted"] for r in out[:2]] == ["kept", "kept"] and out[2]["extracted"] == "2"


def test_list_verifiers_and_help(cli):
    listed = cli("reward", "--list-verifiers")
    names = {line.split()[0] for line in listed.stdout.splitlines()}
    assert {"math", "choice", "exact", "ocr", "number", "iou", "map", "steprar", "steprvr"} <= names
    help_text = cli("reward", "--help").output
    assert "steprvr" in help_text and "file.py:function" in help_text


def test_reward_command_imports_neither_torch_nor_transformers(tmp_path):
    src = write(tmp_path, rollouts(2))
    code = ("import sys\nfrom mmrl_cli.main import app\n"
            f"try:\n    app(['reward', {src!r}, '-o', {str(tmp_path / 'o.jsonl')!r}, '--workers', '0'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stderr
    assert len(read_jsonl(tmp_path / "o.jsonl")) == 2


def test_every_run_writes_its_metrics_beside_the_output(cli, tmp_path):
    result = cli("reward", write(tmp_path, rollouts()), "-o", str(tmp_path / "o.jsonl"), "--workers", "0")
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "o.metrics.json").read_text())
    assert metrics["records"] == 4
    overall = next(r for r in metrics["summary"] if r["by"] == "all")
    assert overall["n"] == 4 and overall["accuracy"] == 0.5


def test_metrics_path_can_be_given(cli, tmp_path):
    text = "".join(json.dumps(r) + "\n" for r in rollouts(2))
    result = cli("reward", "-", "--workers", "0", "--metrics", str(tmp_path / "m.json"), input=text)
    assert result.exit_code == 0 and json.loads((tmp_path / "m.json").read_text())["records"] == 2


def test_an_empty_input_is_an_error(cli, tmp_path):
    src = tmp_path / "empty.jsonl"
    src.write_text("")
    result = cli("reward", str(src), "--workers", "0")
    assert result.exit_code == 2 and "no records to score" in result.stderr


def test_the_summary_table_names_the_file_it_scored(cli, tmp_path):
    import json

    path = tmp_path / "eval-sft" / "predictions.jsonl"
    path.parent.mkdir()
    path.write_text(json.dumps({"id": "a", "sample": 0, "answer": "1", "response": "<answer>1</answer>"}) + "\n")
    result = cli("reward", str(path), "--workers", "0", "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert "rewards · " in result.stderr and "eval-sft" in result.stderr
