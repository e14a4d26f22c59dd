"""The choice verifier: letters in every dress, or the option's text."""
from __future__ import annotations

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.choice import chosen_letters, letter_mentions, letters_in_text

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


def free(said, answer, choices=None):
    return VERIFIERS.get("choice")(said, {"answer": answer, "choices": choices}, {}).accuracy


@pytest.mark.parametrize("said, answer", [
    ("it's not A ... therefore I think it's B", "B"),
    ("The answer is for sure D, it can't be A or B", "D"),
    ("I first thought A, but after checking the units, B is correct.", "B"),
    ("A is wrong because the angle is obtuse. C is wrong too. The answer is D.", "D"),
    ("The answer isn't C, it's A.", "A"),
    ("Choosing B instead of D.", "B"),
    ("After eliminating A, B and C, only D remains.", "D"),
])
def test_english_negations_rule_letters_out(said, answer):
    assert free(said, answer) == 1.0


@pytest.mark.parametrize("said, answer", [
    ("B。不是 A", "B"), ("经过计算，所以选 C。", "C"), ("A 选项错误，B 选项也不对，正确答案是 C。", "C"),
    ("本题选 B，而不是 D。", "B"), ("排除 A 和 B，答案为 D。", "D"),
])
def test_chinese_answers_and_negations(said, answer):
    assert free(said, answer) == 1.0


@pytest.mark.parametrize("said, answer", [
    ("réponse est C non A", "C"), ("Ce n'est pas A, c'est donc D.", "D"), ("Je choisis B plutôt que C.", "B"),
    ("A est faux, B aussi. Il reste D.", "D"), ("La bonne réponse est la B.", "B"),
])
def test_french_answers_and_negations(said, answer):
    assert free(said, answer) == 1.0


@pytest.mark.parametrize("said, answer", [
    ("Это не A, правильный ответ — C.", "C"), ("Die Antwort ist C, nicht A.", "C"), ("La respuesta es B, no D.", "B"),
])
def test_other_languages(said, answer):
    assert free(said, answer) == 1.0


def test_a_ruled_out_letter_is_never_the_answer():
    assert free("The answer is for sure D, it can't be A or B", "B") == 0.0


def test_letters_joined_by_or_are_a_hedge():
    assert letters_in_text("The answer is B or C.", "ABCD") == frozenset()


def test_letters_joined_by_and_are_several_answers():
    assert letters_in_text("Both A and C are correct.", "ABCD") == frozenset("AC")


def test_a_sentence_initial_article_is_not_a_letter():
    assert letter_mentions("A triangle has three sides, so B.", "ABCD") == [(31, 32, "B")]


def test_the_option_text_in_free_text():
    assert free("Therefore, the answer is 18.", "C", ["12", "15", "18", "21"]) == 1.0
