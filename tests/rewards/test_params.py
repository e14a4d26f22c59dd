"""Every verifier parameter the library reads is declared once in ``mmrl.rewards.params`` (so a
recipe or ``--param`` may give it and a misspelling is refused), and every declared one is read."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.rewards.params import PARAMS, check_params

LIBRARY = Path(__file__).resolve().parents[2] / "mmrl"
READS = re.compile(r"""\bparam\(params,\s*"(\w+)"|\bparams\.get\("(\w+)"|"(\w+)" in params\b""")
NOT_VERIFIER_PARAMS = {"mm_token_type_ids", "cache", "past_key_values", "use_cache"}  # mmrl/model: a signature's


def read_names() -> set[str]:
    names = set()
    for path in LIBRARY.rglob("*.py"):
        for match in READS.finditer(path.read_text(encoding="utf-8")):
            names.add(next(g for g in match.groups() if g))
    return names - NOT_VERIFIER_PARAMS


def test_every_parameter_a_verifier_reads_is_declared():
    assert read_names() - set(PARAMS) == set()


def test_every_declared_parameter_is_read_by_some_verifier():
    assert set(PARAMS) - read_names() == set()


@pytest.mark.parametrize("params", [
    {"rename_variables": True}, {"relation_answers_set": False}, {"fallback": "math"}, {"style_gate": True},
    {"precision": 2}, {"lenient": True}, {"max_relative_change": 0.1},
])
def test_parameters_added_with_their_readers_are_accepted(params):
    check_params(params)


def test_a_parameter_read_by_no_one_is_refused():
    with pytest.raises(ConfigError, match="unknown verifier parameter 'min_description_chars'"):
        check_params({"min_description_chars": 10})
