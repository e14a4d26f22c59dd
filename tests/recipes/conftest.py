"""Fixtures of the recipe tests: the command tree's schema, and a small recipe of every stage."""
from __future__ import annotations

import pytest

# every stage on the tiny model in a few seconds; rewards stay 0 on a random model, so no stage
# depends on what a paper's data or verifier makes of its answers
SMALL_RECIPE = """\
data:
  synth: {task: count, n: 4, image_size: 56}
rollout:
  n: 2
  max_new_tokens: 8
reward:
  workers: 0
grade:
  k: "1,2"
grpo:
  algo: grpo
  group_size: 2
  batch_size: 2
  max_new_tokens: 8
  reward_workers: 0
  save_steps: 1
  sample_steps: 1
  beta: 0.0
  max_steps: 8
eval:
  spec: {max_new_tokens: 8, limit: 4}
chain: [data, rollout, reward, grade, grpo, eval]
scales:
  tiny:
    grpo: {max_steps: 3}
"""


@pytest.fixture(scope="session")
def schema():
    import typer

    from mmrl_cli.main import app
    from mmrl_cli.recipes import schema_of

    root = typer.main.get_command(app)
    return schema_of(root, typer.Context(root, info_name="mmrl"))


@pytest.fixture
def small_recipe(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL_RECIPE)
    return path
