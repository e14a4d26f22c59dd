"""The exact and ocr verifiers and the edit distance behind ocr."""
from __future__ import annotations

import random

import pytest

from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.text import edit_similarity, levenshtein


def run(name, said, answer, **params):
    return VERIFIERS.get(name)(f"<answer>{said}</answer>", {"answer": answer}, params).accuracy


def test_exact_is_case_sensitive_by_default():
    assert run("exact", "Hello", "Hello") == 1.0
    assert run("exact", "hello", "Hello") == 0.0


def test_exact_can_ignore_case():
    assert run("exact", "hello", "Hello", case_sensitive=False) == 1.0


def test_exact_collapses_whitespace_by_default():
    assert run("exact", "New   York", "New York") == 1.0
    assert run("exact", "NewYork", "New York") == 0.0


def test_exact_can_remove_whitespace():
    assert run("exact", "NewYork", "New York", whitespace="remove") == 1.0


def test_exact_can_keep_whitespace():
    assert run("exact", "New  York", "New York", whitespace="keep") == 0.0


def test_exact_folds_full_width_forms():
    assert run("exact", "ＡＢＣ１", "ABC1") == 1.0


def test_exact_can_strip_punctuation():
    assert run("exact", "Hello, world!", "Hello world", strip_punctuation=True) == 1.0


def test_ocr_43_against_43_point_0_is_one_half():
    assert run("ocr", "43.0", "43") == pytest.approx(0.5)


def test_ocr_ignores_whitespace_and_keeps_case():
    assert run("ocr", "a b c", "abc") == 1.0
    assert run("ocr", "ABC", "abc") == 0.0


def test_ocr_one_substitution_in_four():
    assert run("ocr", "cart", "card") == pytest.approx(0.75)


def test_edit_similarity_of_two_empty_strings_is_one():
    assert edit_similarity("", "") == 1.0


@pytest.mark.parametrize("a, b, d", [("kitten", "sitting", 3), ("", "abc", 3), ("abc", "abc", 0),
                                     ("flaw", "lawn", 2), ("ab", "ba", 2)])
def test_levenshtein_known_values(a, b, d):
    assert levenshtein(a, b) == d


def test_levenshtein_agrees_with_the_textbook_table():
    def table(a, b):
        prev = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            cur = [i]
            for j, cb in enumerate(b, 1):
                cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
            prev = cur
        return prev[-1]

    rng = random.Random(0)
    for _ in range(300):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 70)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 70)))
        assert levenshtein(a, b) == table(a, b)
