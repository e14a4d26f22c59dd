"""Public data layouts onto the sample fields: --columns and the aliases of common layouts."""
from __future__ import annotations

import pytest

from mmrl.errors import ConfigError, FieldError
from mmrl.io.columns import map_columns, parse_columns


def test_columns_text_parses_to_field_column_pairs():
    assert parse_columns("question=problem, answer=reward_model.ground_truth") == {
        "question": "problem", "answer": "reward_model.ground_truth"}


def test_a_pair_without_equals_is_refused():
    with pytest.raises(ConfigError, match=r"FIELD=COLUMN pairs .* got 'question'"):
        parse_columns("question")


def test_an_unknown_field_is_refused_listing_the_fields():
    with pytest.raises(ConfigError, match=r"'prompt' is not a sample field; fields: id, question"):
        parse_columns("prompt=question")


def test_a_field_given_twice_is_refused():
    with pytest.raises(ConfigError, match=r"question is given twice"):
        parse_columns("question=problem,question=prompt")


def test_an_explicit_column_replaces_the_field_and_is_moved():
    out = map_columns({"id": "a", "answer": "long worked solution", "short": "3"}, {"answer": "short"})
    assert out == {"id": "a", "answer": "3"}


def test_a_dotted_column_reaches_into_a_struct_and_keeps_the_rest():
    out = map_columns({"id": "a", "reward_model": {"ground_truth": "3", "style": "rule"}},
                      {"answer": "reward_model.ground_truth"})
    assert out == {"id": "a", "answer": "3", "reward_model": {"style": "rule"}}


def test_problem_and_solution_are_read_as_question_and_answer():
    assert map_columns({"id": "a", "problem": "1+1?", "solution": "2"}) == {"id": "a", "question": "1+1?", "answer": "2"}


def test_a_field_present_under_its_own_name_wins_over_an_alias():
    out = map_columns({"id": "a", "question": "q", "problem": "p", "answer": "2", "solution": "worked: 2"})
    assert out == {"id": "a", "question": "q", "problem": "p", "answer": "2", "solution": "worked: 2"}


def test_verl_layout_maps_prompt_ground_truth_and_data_source():
    row = {"prompt": [{"role": "user", "content": "<image>What is x?"}], "data_source": "geo3k",
           "reward_model": {"ground_truth": "3", "style": "rule"}, "ability": "math"}
    assert map_columns(row) == {"question": "<image>What is x?", "answer": "3", "source": "geo3k",
                                "reward_model": {"style": "rule"}, "ability": "math"}


def test_two_alias_columns_for_one_field_are_refused_as_ambiguous():
    with pytest.raises(FieldError, match=r"question: ambiguous: columns 'problem' and 'prompt' could each be the "
                                         r"question; say which with --columns question=COLUMN"):
        map_columns({"problem": "p", "prompt": "q"})


def test_an_explicit_mapping_settles_an_ambiguity():
    assert map_columns({"problem": "p", "prompt": "q"}, {"question": "prompt"}) == {"problem": "p", "question": "q"}


def test_a_chat_with_a_system_turn_is_refused():
    chat = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}]
    with pytest.raises(FieldError, match=r"question: column 'prompt' holds a system turn"):
        map_columns({"prompt": chat})


def test_a_chat_with_two_user_turns_is_refused():
    chat = [{"role": "user", "content": "q1"}, {"role": "user", "content": "q2"}]
    with pytest.raises(FieldError, match=r"holds 2 user turns"):
        map_columns({"prompt": chat})


def test_a_single_image_column_becomes_a_list_of_one():
    assert map_columns({"image": "a.png"}) == {"images": ["a.png"]}


def test_messages_stand_for_the_question():
    row = {"messages": [{"role": "user", "content": "q"}], "prompt": "other"}
    assert map_columns(row) == row
