"""The choice verifier: letters in every dress, or the option's text."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.choice import chosen_letters

CHOICES = ["red", "blue", "green", "yellow"]


def score(said, answer="B", choices=CHOICES):
    sample = {"answer": answer, "choices": choices}
    return VERIFIERS.get("choice")(f"<think>t</think><answer>{said}</answer>", sample, {}).accuracy


@pytest.mark.parametrize("said", ["B", "(B)", "B.", "B)", "[B]", "b", "option B", "Option (B)", "B: blue",
                                  "(B) blue", "blue", "Blue.", "**B**", "\\text{(B)}", "The answer is (B)"])
def test_ways_of_choosing_b(said):
    assert score(said) == 1.0


@pytest.mark.parametrize("said", ["A", "(C)", "red", "E", "", "blue or red", "B or C"])
def test_wrong_or_ambiguous_choices(said):
    assert score(said) == 0.0


def test_an_article_is_not_an_option():
    assert chosen_letters("A triangle", CHOICES) == frozenset()


def test_answer_given_as_the_option_text():
    assert score("B", answer="blue") == 1.0


def test_letters_beyond_the_options_do_not_count():
    assert score("E", answer="B", choices=["x", "y"]) == 0.0


def test_several_correct_letters_must_all_be_chosen():
    assert score("A, C", answer="AC") == 1.0
    assert score("A", answer="AC") == 0.0


def test_without_choices_letters_still_work():
    assert score("(C)", answer="C", choices=None) == 1.0
