"""One config rule: both recipe forms read the same sections; unknown sections, keys and verifier
parameters are refused at start-up (exit 2, naming the file, the line and the valid names);
verifier parameters are type-checked; ``--param`` adds to the recipe's list in every command."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def builtin_verifiers_only():
    """While a user verifier is registered (other tests of this process register some), unknown
    parameters pass by design; these tests check the built-in declarations, so they hide them."""
    from mmrl.rewards.base import VERIFIERS

    hidden = {name: fn for name, fn in VERIFIERS._items.items()
              if not str(getattr(fn, "__module__", "")).startswith("mmrl.")}
    for name in hidden:
        del VERIFIERS._items[name]
    yield
    VERIFIERS._items.update(hidden)  # what registered meanwhile (built-ins load lazily) stays


def _recipe(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("form", ["root", "per-command"])
def test_the_warmup_sft_section_applies_in_both_forms(cli, tmp_path, form):
    # max_length 4 is below its bound: only a form that reads the section can refuse it
    recipe = _recipe(tmp_path, "warmup_sft:\n  max_length: 4\n")
    args = ["warmup-sft", "--model", "m", "--data", "d.jsonl", "--out", str(tmp_path / "o")]
    result = cli("--config", str(recipe), *args) if form == "root" else cli(*args, "--config", str(recipe))
    assert result.exit_code == 2
    assert "--max-length must be a whole number >= 8, got 4" in result.stderr


@pytest.mark.parametrize("form", ["root", "per-command"])
def test_a_misspelt_section_is_refused_in_both_forms(cli, tmp_path, form):
    recipe = _recipe(tmp_path, "rollout:\n  n: 2\nwarmup_sfft:\n  lr: 1.0e-5\n")
    args = ["rollout", "--model", "m", "--data", "d.jsonl"]
    result = cli("--config", str(recipe), *args) if form == "root" else cli(*args, "--config", str(recipe))
    assert result.exit_code == 2
    assert f"{recipe}:3: unknown section 'warmup_sfft'; valid sections: " in result.stderr
    assert "warmup_sft" in result.stderr.split("valid sections:")[1]


def test_a_misspelt_key_names_the_line_and_the_valid_options(cli, tmp_path):
    recipe = _recipe(tmp_path, "grpo:\n  algo: grpo\n  lrr: 1.0e-6\n")
    result = cli("--config", str(recipe), "grpo", "--model", "m", "--data", "d", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert f"{recipe}:3: grpo.lrr: not an option of 'mmrl grpo'; valid: " in result.stderr
    assert " lr," in result.stderr


def test_a_misspelt_verifier_parameter_in_a_recipe_is_refused(cli, tmp_path):
    recipe = _recipe(tmp_path, "reward:\n  param: [\"requre_box=true\"]\n")
    result = cli("--config", str(recipe), "reward", "-", input="")
    assert result.exit_code == 2
    assert f"{recipe}:2: reward.param: unknown verifier parameter 'requre_box'" in result.stderr
    assert "require_box" in result.stderr  # the valid names are listed


@pytest.mark.parametrize("command", ["reward", "grpo"])
def test_a_misspelt_verifier_parameter_flag_is_refused(cli, tmp_path, command):
    args = ["-"] if command == "reward" else ["--model", "m", "--data", "d", "--out", str(tmp_path / "o")]
    result = cli(command, *args, "--param", "requre_box=true", input="")
    assert result.exit_code == 2
    assert "--param: unknown verifier parameter 'requre_box'" in result.stderr


@pytest.mark.parametrize("param, wants", [("require_box=yes", "true or false"), ("alpha=high", "a number"),
                                          ("no_answer=never", "one of zero, alpha_k")])
def test_a_verifier_parameter_of_the_wrong_type_is_refused(cli, param, wants):
    result = cli("reward", "-", "--param", param, input="")
    assert result.exit_code == 2
    assert f"verifier parameter {param.split('=')[0]} must be {wants}" in result.stderr


def test_a_parameter_of_a_user_verifier_is_not_refused():
    from mmrl.rewards.base import VERIFIERS
    from mmrl.rewards.scoring import RewardConfig

    VERIFIERS.add("test_open_params", lambda response, sample, params: None, replace=True)
    try:
        assert RewardConfig(params={"my_knob": 3}).params == {"my_knob": 3}
    finally:
        VERIFIERS._items.pop("test_open_params")


def test_grpo_param_adds_to_the_recipes_list_key_by_key(cli, tmp_path, monkeypatch):
    from types import SimpleNamespace

    seen = {}

    def train(cfg):
        seen["cfg"] = cfg
        return SimpleNamespace(interrupted=False)

    monkeypatch.setattr("mmrl.rl.trainer.train", train)
    recipe = ROOT / "recipes" / "r1vl_stepgrpo.yaml"   # param: ["alpha=0.1", "no_answer=zero"]
    result = cli("--config", str(recipe), "grpo", "--model", "m", "--data", "d", "--out", str(tmp_path / "o"),
                 "--param", "alpha=0.2")
    assert result.exit_code == 0, result.stderr
    assert seen["cfg"].reward.params == {"alpha": 0.2, "no_answer": "zero"}


@pytest.mark.parametrize("command", ["reward", "grpo"])
def test_the_format_modes_help_offers_are_the_ones_accepted(cli, command):
    from mmrl.rewards.format import FORMAT_MODES

    words = cli(command, "--help").stdout.replace("│", " ").split()
    start = words.index("--format-mode")
    end = next(i for i in range(start + 1, len(words)) if words[i].startswith("--"))
    offered = {w.strip(".,:;") for w in words[start:end]} & {*FORMAT_MODES, "none", "off", "relaxed"}
    assert offered == set(FORMAT_MODES)
    args = ["-"] if command == "reward" else ["--model", "m", "--data", "d", "--out", "o"]
    refused = cli(command, *args, "--format-mode", "none", input="")
    assert refused.exit_code == 2 and "strict" in refused.stderr and "lenient" in refused.stderr
