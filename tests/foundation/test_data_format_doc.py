"""The data contract lives in the repository (docs/data-format.md), and the help points there."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "data-format.md"

SAMPLE_FIELDS = ("id", "question", "images", "answer", "choices", "source", "reward", "key_steps", "difficulty",
                 "response", "messages", "meta")
SCORED_FIELDS = ("extracted", "rewards", "error")
GRADED_FIELDS = ("n", "correct", "pass_at_k", "mean_reward", "difficulty")


def documented_fields() -> set[str]:
    return set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.M)) | set(
        re.findall(r"`([a-z_]+)`", DOC.read_text(encoding="utf-8")))


@pytest.mark.parametrize("field", SAMPLE_FIELDS + SCORED_FIELDS + GRADED_FIELDS)
def test_every_field_is_documented(field):
    assert field in documented_fields()


def test_every_rollout_field_is_documented():
    from mmrl.rollout.records import ROLLOUT_FIELDS

    assert set(ROLLOUT_FIELDS) <= documented_fields()


def test_every_finish_reason_is_documented():
    from mmrl.io.schema import FINISH_REASONS

    text = DOC.read_text(encoding="utf-8")
    assert all(f"`{reason}`" in text for reason in FINISH_REASONS)


def test_no_help_text_points_outside_the_repository():
    for path in (ROOT / "cli").glob("*.py"):
        assert "SPEC.md" not in path.read_text(encoding="utf-8"), path.name
    assert "../shared/" not in (ROOT / "README.md").read_text(encoding="utf-8")


def test_validate_help_names_the_document(cli):
    assert "docs/data-format.md" in cli("data", "validate", "--help").stdout
