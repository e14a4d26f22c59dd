"""Each command's help shows its own usage, no value type on on/off flags, and an example."""
from __future__ import annotations

import re

import pytest


def help_text(cli, *args):
    result = cli(*args, "--help")
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_a_benchmark_help_has_its_own_usage_without_a_bench_argument(cli):
    text = help_text(cli, "eval", "spec")
    assert re.search(r"Usage: mmrl eval spec \[OPTIONS\]\s*$", text, re.M)
    assert "{bench}" not in text and "Example: mmrl eval spec --model" in text


def test_a_benchmark_help_gives_that_benchmarks_summary(cli):
    from mmrl.eval.benchmark import BENCHMARKS

    assert BENCHMARKS.get("mathvista").summary.split()[0] in help_text(cli, "eval", "mathvista")


def test_a_benchmark_runs_through_its_own_command(cli, tmp_path):
    result = cli("eval", "spec", "--model", str(tmp_path / "no-model"), "-o", str(tmp_path / "out"),
                 "--data", str(tmp_path / "missing.jsonl"))
    assert result.exit_code == 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [("grpo",), ("warmup-sft",), ("rollout",), ("eval", "spec"), ("reward",)])
def test_on_off_flags_show_no_value_type(command, cli):
    assert "<bool>" not in help_text(cli, *command)


def test_the_eval_group_usage_names_the_benchmark_form(cli):
    assert "BENCH --model M -o DIR" in help_text(cli, "eval")
