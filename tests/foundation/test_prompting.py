"""Samples become chat messages the same way for every subcommand."""
from __future__ import annotations

import pytest

from mmrl.prompting import render_choices, sample_messages


def test_images_come_first_without_placeholders():
    msgs = sample_messages({"id": "a", "question": "How many?", "images": ["x.png", "y.png"]})
    assert msgs == [{"role": "user", "content": [{"type": "image"}, {"type": "image"},
                                                  {"type": "text", "text": "How many?"}]}]


def test_placeholders_put_images_in_place():
    msgs = sample_messages({"id": "a", "question": "Left <image> right <image>.", "images": ["x", "y"]})
    assert msgs[0]["content"] == [{"type": "text", "text": "Left "}, {"type": "image"},
                                  {"type": "text", "text": " right "}, {"type": "image"},
                                  {"type": "text", "text": "."}]


def test_placeholder_count_must_match_the_images():
    with pytest.raises(ValueError, match="2 <image> placeholders but the sample has 1 images"):
        sample_messages({"id": "a", "question": "<image><image>", "images": ["x"]})


def test_choices_are_rendered_as_lettered_lines():
    assert render_choices("Which?", ["red", "blue"]) == "Which?\nChoices:\n(A) red\n(B) blue"


def test_system_instruction_and_response():
    msgs = sample_messages({"id": "a", "question": "Q", "response": "<think>t</think><answer>1</answer>"},
                           system="S", instruction="Think first.", with_response=True)
    assert msgs == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": [{"type": "text", "text": "Q\nThink first."}]},
        {"role": "assistant", "content": "<think>t</think><answer>1</answer>"},
    ]


def test_messages_samples_keep_their_turns_and_place_images():
    sample = {"id": "a", "images": ["x"], "messages": [
        {"role": "user", "content": "<image>What is it?"}, {"role": "assistant", "content": "A cat."},
        {"role": "user", "content": "Colour?"}, {"role": "assistant", "content": "Grey."}]}
    msgs = sample_messages(sample)
    assert msgs[0]["content"] == [{"type": "image"}, {"type": "text", "text": "What is it?"}]
    assert msgs[2]["content"] == [{"type": "text", "text": "Colour?"}]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]


def test_an_image_marked_in_a_later_turn_stays_there():
    sample = {"id": "a", "images": ["x"], "messages": [
        {"role": "user", "content": "Hello."}, {"role": "assistant", "content": "Hi."},
        {"role": "user", "content": "<image>What is it?"}]}
    msgs = sample_messages(sample)
    assert msgs[0]["content"] == [{"type": "text", "text": "Hello."}]
    assert msgs[2]["content"] == [{"type": "image"}, {"type": "text", "text": "What is it?"}]


def test_without_any_mark_the_images_go_with_the_first_user_turn():
    sample = {"id": "a", "images": ["x", "y"], "messages": [
        {"role": "user", "content": "Compare."}, {"role": "assistant", "content": "Same."}]}
    assert sample_messages(sample)[0]["content"] == [{"type": "image"}, {"type": "image"},
                                                     {"type": "text", "text": "Compare."}]
