"""``mmrl recipe list/show`` and the plan of a run: each setting resolved with its source, and every
mistake found before the first stage starts."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.recipes import RunRequest, find_recipe, load_recipe, plan

ROOT = Path(__file__).resolve().parents[2]
PAPERS = ["glm41v_rlcs", "r1vl_stepgrpo", "vtriune", "mm_eureka"]


def _line(path: Path, text: str, after: str | None = None) -> int:
    lines = path.read_text().splitlines()
    start = lines.index(after) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if line.lstrip().startswith(text))


def _plan(recipe, schema, **kw):
    return {p.stage.kind: p for p in plan(RunRequest(load_recipe(recipe), "M", Path("OUT"), **kw), schema)}


def test_list_names_every_shipped_paper_recipe(cli):
    result = cli("recipe", "list")
    assert result.exit_code == 0, result.stderr
    for name in PAPERS:
        assert name in result.stderr


@pytest.mark.parametrize("name", PAPERS)
def test_a_shipped_recipe_is_found_by_name(name):
    assert find_recipe(name) == ROOT / "recipes" / f"{name}.yaml"


def test_an_unknown_recipe_name_lists_the_shipped_ones():
    with pytest.raises(ConfigError, match="glm41v_rlcs"):
        find_recipe("glm41v")


def test_each_setting_says_where_it_came_from(schema):
    path = ROOT / "recipes" / "glm41v_rlcs.yaml"
    stages = _plan(path, schema, scale="tiny", sets=["grpo.lr=0.5"])
    grpo = stages["grpo"].settings
    assert grpo["clip_high"].value == 0.28
    assert grpo["clip_high"].source == f"recipe glm41v_rlcs.yaml:{_line(path, 'clip_high:', 'grpo:')}"
    assert grpo["max_steps"].source == f"scale tiny glm41v_rlcs.yaml:{_line(path, 'grpo:', 'scales:')}"
    assert (grpo["lr"].value, grpo["lr"].source) == (0.5, "--set")
    assert (grpo["seed"].value, grpo["seed"].source) == (0, "default")


def test_paper_scale_is_the_recipe_as_written(schema):
    grpo = _plan(ROOT / "recipes" / "mm_eureka.yaml", schema)["grpo"].settings
    assert grpo["batch_size"].source.startswith("recipe ") and grpo["max_steps"].source == "default"


def test_the_r1vl_chain_warms_up_with_its_own_recipe(schema):
    stages = _plan(ROOT / "recipes" / "r1vl_stepgrpo.yaml", schema)
    assert list(stages) == ["data", "warmup_sft", "grpo", "eval"]
    warmup = stages["warmup_sft"].settings
    assert warmup["lr"].source.startswith("recipe r1vl_warmup.yaml:") and warmup["lr"].value == 2.0e-5  # R1-VL's SFT lr (its sft yaml)


def test_set_adds_verifier_parameters_key_by_key(schema):
    grpo = _plan(ROOT / "recipes" / "r1vl_stepgrpo.yaml", schema, sets=["grpo.param=[alpha=0.2]"])["grpo"].settings
    from mmrl.rewards.scoring import parse_params

    assert parse_params(grpo["param"].value) == {"alpha": 0.2, "no_answer": "zero"}


def test_show_prints_the_settings_and_their_sources(cli):
    result = cli("recipe", "show", "mm_eureka", "--scale", "tiny")
    assert result.exit_code == 0, result.stderr
    assert "rloo" in result.stderr and "scale tiny" in result.stderr


CHAIN = "chain: [data, rollout, reward, grade, grpo, eval]"


@pytest.mark.parametrize("old, new, message", [
    (CHAIN, "chain: [data, rollout, rewardz]", "chain: unknown stage 'rewardz'"),
    (CHAIN, "chain: [data, reward]", "stage 'reward' needs a rollout stage before it"),
    (CHAIN, "chain: [data, grpo, grpo]", "stage 'grpo' appears twice"),
    ("grpo: {max_steps: 3}", "grpo: {max_stepz: 3}", "grpo.max_stepz: not an option of 'mmrl grpo'"),
])
def test_a_broken_chain_is_refused_before_any_stage_runs(cli, tmp_path, small_recipe, tiny_model_dir, old, new,
                                                         message):
    text = small_recipe.read_text()
    assert old in text
    small_recipe.write_text(text.replace(old, new))
    out = tmp_path / "run"
    result = cli("recipe", "run", str(small_recipe), "--model", tiny_model_dir, "--out", str(out), "--scale", "tiny")
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and str(small_recipe) in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("option, message", [
    (["--set", "grpo.lrr=1"], "grpo.lrr: not an option of 'mmrl grpo'"),
    (["--set", "warmup_sft.lr=1"], "the chain has no stage with section 'warmup_sft'"),
    (["--set", "grpo"], "expected SECTION.KEY=VALUE"),
    (["--scale", "huge"], "no scale 'huge' (its scales: paper, tiny)"),
])
def test_a_bad_option_is_refused_before_any_stage_runs(cli, tmp_path, small_recipe, tiny_model_dir, option, message):
    out = tmp_path / "run"
    result = cli("recipe", "run", str(small_recipe), "--model", tiny_model_dir, "--out", str(out), *option)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert not out.exists()


def test_a_folder_named_by_mmrl_recipes_is_searched_first(tmp_path, monkeypatch):
    mine = tmp_path / "glm41v_rlcs.yaml"
    mine.write_text("chain: [data]\n")
    monkeypatch.setenv("MMRL_RECIPES", str(tmp_path))
    assert find_recipe("glm41v_rlcs") == mine
    assert find_recipe("vtriune") == ROOT / "recipes" / "vtriune.yaml"


def test_a_setting_left_to_the_algorithm_shows_the_algorithms_value(schema):
    grpo = _plan(ROOT / "recipes" / "mm_eureka.yaml", schema)["grpo"].settings
    assert (grpo["advantage"].value, grpo["advantage"].source) == ("rloo", "default of algo rloo")
    assert not grpo["advantage"].explicit   # grpo fills it itself: not written into the stage's settings


def test_the_data_stage_asks_data_synth_for_the_papers_data():
    from mmrl.recipes.wiring import synth_args

    assert synth_args("mm_eureka", {}) == ["--recipe", "mm_eureka"]


@pytest.mark.parametrize("own", [{"recipe": "glm41v"}, {"task": "arith"}])
def test_a_data_section_that_picks_its_data_is_left_to_it(own):
    from mmrl.recipes.wiring import synth_args

    assert synth_args("mm_eureka", own) == []


@pytest.mark.parametrize("out_of", [lambda model: model, lambda model: Path(model) / "run"])
def test_a_run_folder_overlapping_the_model_is_refused(cli, small_recipe, tiny_model_dir, out_of):
    before = sorted(p.name for p in Path(tiny_model_dir).iterdir())
    result = cli("recipe", "run", str(small_recipe), "--model", tiny_model_dir, "--out", str(out_of(tiny_model_dir)))
    assert result.exit_code == 2 and "overlap" in result.stderr
    assert sorted(p.name for p in Path(tiny_model_dir).iterdir()) == before


def test_a_scale_may_replace_the_chain(schema):
    path = ROOT / "recipes" / "glm41v_rlcs.yaml"
    assert list(_plan(path, schema)) == ["data", "rollout", "reward", "grade", "grpo", "eval"]
    assert list(_plan(path, schema, scale="tiny")) == ["data", "warmup_sft", "rollout", "reward", "grade", "grpo",
                                                        "eval"]
