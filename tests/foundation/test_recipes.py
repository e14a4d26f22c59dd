"""Every shipped recipe names only real options of the commands it configures."""
from __future__ import annotations

from pathlib import Path

import pytest

RECIPES = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.yaml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 4


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.name)
def test_recipe_options_exist(recipe, cli):
    # --help runs after the root callback has checked the whole recipe against the command tree.
    result = cli("--config", str(recipe), "data", "validate", "--help")
    assert result.exit_code == 0, result.stderr
    assert "not an option" not in result.stderr
