"""The CLI shell: help, version, recipes as defaults, errors as exit 2."""
from __future__ import annotations

import subprocess
import sys

from mmrl import __version__
from mmrl.io.jsonl import read_jsonl


def test_help_lists_the_command_groups(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for group in ("data", "model"):
        assert group in result.output


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0 and result.output.strip() == f"mmrl {__version__}"


def test_root_recipe_sets_defaults_of_a_subcommand(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth:\n    n: 3\n    task: count\n    image-size: 56\n")
    result = cli("--config", str(recipe), "data", "synth", "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 0, result.output
    records = read_jsonl(tmp_path / "d.jsonl")
    assert len(records) == 3 and {r["source"] for r in records} == {"synth/count"}


def test_flags_override_the_recipe(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth:\n    n: 3\n    task: count\n")
    result = cli("data", "synth", "--config", str(recipe), "-o", str(tmp_path / "d.jsonl"), "--n", "2",
                 "--image-size", "56")
    assert result.exit_code == 0, result.output
    assert [r["source"] for r in read_jsonl(tmp_path / "d.jsonl")] == ["synth/count"] * 2


def test_broken_recipe_is_reported_with_its_line(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth: [unclosed\n")
    result = cli("--config", str(recipe), "data", "synth", "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2 and f"{recipe}:" in result.stderr and "invalid YAML" in result.stderr


def test_missing_recipe_is_a_clear_error(cli, tmp_path):
    result = cli("--config", str(tmp_path / "none.yaml"), "data", "validate", "x.jsonl")
    assert result.exit_code == 2 and "recipe not found" in result.stderr


def test_help_does_not_import_torch():
    code = "import sys; from mmrl_cli.main import app; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_console_script_runs_as_a_process(tmp_path):
    out = subprocess.run([sys.executable, "-m", "mmrl_cli.main", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"mmrl {__version__}"


def test_a_misspelt_recipe_key_is_refused(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth:\n    nn: 3\n")
    result = cli("--config", str(recipe), "data", "synth", "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2 and f"{recipe}:3: data.synth.nn: not an option of 'mmrl data synth'" in result.stderr
    assert "valid: image_size, n, out, recipe, seed, task" in result.stderr


def test_a_per_command_recipe_checks_its_section_too(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth:\n    colour: red\n")
    result = cli("data", "synth", "--config", str(recipe), "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2 and f"{recipe}:3: data.synth.colour: not an option" in result.stderr


def test_a_section_that_names_no_command_is_refused_naming_the_valid_ones(cli, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("data:\n  synth:\n    n: 2\n    image-size: 56\nno_such_command:\n  lr: 1.0e-6\n")
    result = cli("--config", str(recipe), "data", "synth", "-o", str(tmp_path / "d.jsonl"))
    assert result.exit_code == 2, result.output
    assert f"{recipe}:5: unknown section 'no_such_command'" in result.stderr
    assert "grpo" in result.stderr and "warmup_sft" in result.stderr  # the valid sections are listed
    assert not (tmp_path / "d.jsonl").exists()
