"""Each setting is declared once (mmrl.settings): the command line, recipes, checks and the
trainers' configs all read that declaration."""
from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mmrl.errors import ConfigError
from mmrl.rl.config import GRPOConfig, LossSpec
from mmrl.settings import COUNT, POSITIVE, SEED, SHARE, Bound, build, flatten, leaves, section, setting
from mmrl.sft.config import SFTConfig
from mmrl_cli.options import command

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class LossWithBonus(LossSpec):
    bonus: float = setting(0.5, bound=POSITIVE, help="A setting added in one line.")


@dataclasses.dataclass
class ConfigWithBonus(GRPOConfig):
    loss: LossWithBonus = section(LossWithBonus, help="The loss")


def _app(seen: list) -> typer.Typer:
    app = typer.Typer()
    app.command("grpo")(command(ConfigWithBonus, lambda flags: seen.append(ConfigWithBonus.from_flags(**flags)), "x"))

    @app.callback()
    def root() -> None:
        pass

    return app


def test_a_setting_declared_once_is_a_flag_a_recipe_key_and_a_config_field(tmp_path):
    seen: list = []
    app = _app(seen)
    assert "--bonus" in CliRunner().invoke(app, ["grpo", "--help"]).output
    base = ["grpo", "--model", "m", "--data", "d", "--out", "o"]
    assert CliRunner().invoke(app, [*base, "--bonus", "2"]).exit_code == 0
    recipe = tmp_path / "r.yaml"
    recipe.write_text("grpo:\n  bonus: 3\n", encoding="utf-8")
    assert CliRunner().invoke(app, [*base, "--config", str(recipe)]).exit_code == 0
    assert [c.loss.bonus for c in seen] == [2.0, 3.0]


def test_a_declared_range_is_checked_for_the_new_setting():
    with pytest.raises(ConfigError, match="--bonus must be a finite number > 0"):
        ConfigWithBonus.from_flags(model="m", data="d", out="o", bonus=-1.0)


@pytest.mark.parametrize("name", ["grpo.py", "warmup_sft.py"])
def test_the_training_commands_write_no_option_by_hand(name):
    assert "typer.Option(" not in (ROOT / "cli" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("cls", [GRPOConfig, SFTConfig])
def test_flat_settings_round_trip_through_the_config(cls):
    cfg = cls.from_flags(model="m", data="d", out="o", lora=True, lora_r=4, seed=3)
    assert cls.from_flags(**{k: v for k, v in cfg.to_dict().items()}) == cfg


@pytest.mark.parametrize("cls", [GRPOConfig, SFTConfig])
def test_every_key_names_one_setting(cls):
    keys = [leaf.key for leaf in leaves(cls)]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("cls", [GRPOConfig, SFTConfig])
def test_every_numeric_setting_declares_a_range(cls):
    for leaf in leaves(cls):
        args = set(typing.get_args(leaf.type)) or {leaf.type}
        if leaf.meta.cli and args & {int, float} and bool not in args:
            assert leaf.meta.bound is not None, leaf.key


def test_an_unknown_setting_is_an_error():
    with pytest.raises(ConfigError, match="unknown setting"):
        build(GRPOConfig, {"model": "m", "data": "d", "out": "o", "lr_rate": 1.0})


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_no_range_admits_nan_or_infinity(value):
    assert not Bound().holds(value)
    assert not POSITIVE.holds(value)


def test_ranges_are_closed_or_open_as_declared():
    assert POSITIVE.holds(1e-9) and not POSITIVE.holds(0.0)
    assert SHARE.holds(0.0) and not SHARE.holds(1.0)
    assert COUNT.holds(1) and not COUNT.holds(0) and not COUNT.holds(1.5)
    assert SEED.holds(2**32 - 1) and not SEED.holds(2**32) and not SEED.holds(-1)
    assert not COUNT.holds(True)  # a flag is not a count


def test_a_section_default_is_the_commands_default():
    assert GRPOConfig.from_flags(model="m", data="d", out="o").optim.lr == 1e-6
    assert SFTConfig.from_flags(model="m", data="d", out="o").optim.lr == 1e-5
    assert flatten(GRPOConfig.from_flags(model="m", data="d", out="o"))["group_size"] == 8


def test_the_help_says_which_settings_algo_fills_and_their_default():
    from mmrl_cli.main import app

    out = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["grpo", "--help"]).output
    assert "responses per prompt. (--algo sets it; default 8)" in out
