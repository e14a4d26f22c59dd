"""Answers inside prose: each narrowing rule on its own, then their order."""
from __future__ import annotations

import pytest

from mmrl.rewards.extract import (
    answer_in_sentence,
    bracketed_number,
    extract_answer,
    first_answer_in,
    has_prose,
    is_bare_answer,
    last_answer_line,
    last_bold,
    last_math_answer,
    math_spans,
    math_tail,
    phrase_tail,
    sentence_numbers,
    tidy_answer,
    value_of,
)


def test_tidy_strips_sentence_punctuation_and_bold():
    assert tidy_answer(" **42**。 ") == "42"


def test_tidy_keeps_a_leading_decimal_point():
    assert tidy_answer(".5") == ".5"


def test_tidy_keeps_a_factorial():
    assert tidy_answer("10!") == "10!"


def test_tidy_keeps_an_ellipsis():
    assert tidy_answer("1, 2, 3, ...") == "1, 2, 3, ..."


def test_tidy_drops_a_stray_trailing_backslash():
    assert tidy_answer("5\\") == "5"


def test_a_bare_answer_is_mathematics():
    assert is_bare_answer("x = 2") and is_bare_answer("15 cm") and not is_bare_answer("The answer is 4")


def test_an_exact_value_with_its_approximation_is_bare():
    assert is_bare_answer("\\frac{1}{\\sqrt{3}} \\approx 0.577")


def test_prose_words_are_seen():
    assert has_prose("est de 2,5 kg") and not has_prose("x = 2 and x = 3")


@pytest.mark.parametrize("text, tail", [
    ("So the answer is 4.", " 4."),
    ("Final Answer: 42", " 42"),
    ("#### 72", " 72"),
    ("La réponse est **36 €**.", " **36 €**."),
    ("所以答案是 **15 页**。", " **15 页**。"),
    ("Ответ: 15 г", " 15 г"),
    ("الإجابة: 24", " 24"),
    ("따라서 정답은 12개", " 12개"),
])
def test_phrase_tail_in_several_languages(text, tail):
    assert phrase_tail(text) == tail


def test_phrase_tail_takes_the_next_line_when_the_phrase_ends_its_line():
    assert phrase_tail("The answer is:\n\n**12**").strip() == "**12**"


def test_no_phrase_no_tail():
    assert phrase_tail("We add 3 and 4.") is None


def test_last_bold():
    assert last_bold("First **3**, then **4**.") == "4"


def test_math_spans_in_every_delimiter():
    assert math_spans("$a$ and $$b$$, \\(c\\), \\[d\\]") == ["a", "b", "c", "d"]


def test_an_escaped_dollar_is_not_a_delimiter():
    assert math_spans("costs \\$5 and $x = 2$") == ["x = 2"]


def test_an_end_of_proof_mark_is_not_the_answer():
    assert math_spans("so $k = 3$. $\\blacksquare$") == ["k = 3"]


def test_spans_joined_by_and_are_one_answer():
    assert last_math_answer("The roots are $1$ and $-4$.") == "1, -4"


def test_a_number_after_the_last_span_wins_over_it():
    assert last_math_answer("share $\\frac{3}{8}$, so 18 boys") is None


def test_value_of_an_equation_with_an_unreadable_left_side():
    assert value_of("\\angle ABC = 60^\\circ") == "60^\\circ"


def test_bracketed_number():
    assert bracketed_number("The angle is [90].") == "90"


def test_an_interval_is_not_a_bracketed_number():
    assert bracketed_number("x is in [1, 3]") is None


@pytest.mark.parametrize("text, numbers", [
    ("about 1,000.99m² in 2,74 $", ["1,000.99", "2,74"]),
    ("€ 1.234,56", ["1.234,56"]),
    ("1 000 000 roubles", ["1 000 000"]),
    ("the answer is negative 3", ["-3"]),
    ("3/4 of 45%", ["3/4", "45%"]),
])
def test_sentence_numbers(text, numbers):
    assert sentence_numbers(text) == numbers


def test_math_tail_takes_the_longest_mathematical_end():
    assert math_tail("The roots are x = 2 and x = 3") == "x = 2 and x = 3"


def test_math_tail_refuses_prose():
    assert math_tail("La masse est de 2,5 kg") == "2,5 kg"


def test_after_a_phrase_the_first_answer_counts():
    assert first_answer_in(" 4, not 5.") == "4"


def test_after_a_phrase_a_math_span_counts():
    assert first_answer_in(" $\\frac{7}{3}$. I hope it is correct.") == "\\frac{7}{3}"


@pytest.mark.parametrize("sentence, answer", [
    ("The answer is 4", "4"),
    ("x = 7", "x = 7"),
    ("She has **15 pages** left.", "15 pages"),
    ("The length is $\\sqrt{2}$ units.", "\\sqrt{2}"),
    ("The angle is [90].", "90"),
    ("So the speed is 60 km/h.", "60 km/h"),
    ("so the number is 10 which is 1,000.99m²", "1,000.99m²"),
    ("Il reste 0,75 L de jus.", "0,75"),
])
def test_answer_in_sentence(sentence, answer):
    assert answer_in_sentence(sentence) == answer


def test_last_answer_line_skips_a_closing_courtesy():
    assert last_answer_line("So it is 15.\nI hope this helps!") == "So it is 15."


def test_a_response_cut_inside_its_thinking_has_no_answer():
    assert extract_answer("<think>we add 2 + 2 =").text is None


def test_an_answer_phrase_in_another_language_is_an_answer_rule():
    found = extract_answer("Donc x vaut 3.\nLa réponse est 3.")
    assert (found.text, found.method) == ("3", "answer_is")


def test_a_display_equation_ending_the_response():
    assert extract_answer("The solution is\n\\[\nx = \\frac{5}{2}\n\\]").text == "x = \\frac{5}{2}"


def test_sentences_false_keeps_the_raw_text_for_official_scorers():
    assert extract_answer("<answer>The answer is 4</answer>", sentences=False).text == "The answer is 4"
