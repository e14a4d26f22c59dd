"""Reading graders' published test suites (benchmarks/public_suites.py) without running them.

The sample below is written here, in the format of those suites (a ``compare_strings`` helper,
``pytest.mark.parametrize`` tables, options passed to the helper); no published case is used, and
nothing here needs the network.
"""
from __future__ import annotations

import textwrap

import pytest

from tests.scripts import benchmark_script


@pytest.fixture(scope="module")
def suites():
    with benchmark_script("public_suites") as module:
        yield module


SAMPLE = textwrap.dedent('''
    import pytest
    import a_module_that_does_not_exist
    raise SystemExit("running this file is a bug")


    def compare_strings(gold, pred, match_types=["latex", "expr"], precision=6, strict=True):
        return 1


    @pytest.mark.parametrize(
        "gold,pred,expected",
        [
            ("1/2", "0.5", 1),
            ("3", "three apples", 0),
            (f"{1 + 1}", "2", 1),
        ],
    )
    def test_numbers(gold, pred, expected):
        assert compare_strings(gold, pred, match_types=["expr"]) == expected


    @pytest.mark.parametrize(
        "gold, pred, language, expected",
        [pytest.param("4", "la réponse est 4", Language.FRENCH, True)],
    )
    def test_languages(gold, pred, language, expected):
        assert compare_strings(gold, pred, language) == expected


    def test_literal_calls():
        assert compare_strings("$x$", "$y$", precision=3)
        assert not compare_strings("$1$", "$2$")


    def test_something_else():
        assert 1 + 1 == 2
''')


@pytest.fixture()
def sample_cases(suites, tmp_path):
    path = tmp_path / "test_sample.py"
    path.write_text(SAMPLE, encoding="utf-8")
    params = ["gold", "pred", "language"]
    return suites.parse_suite_file("sample", path, "test_sample.py", params)


def test_a_parametrize_row_is_a_case_with_its_file_and_line(sample_cases):
    cases, _ = sample_cases
    first = cases[0]
    assert (first.gold, first.pred, first.expected) == ("1/2", "0.5", True)
    row = next(k for k, line in enumerate(SAMPLE.splitlines(), start=1) if '("1/2", "0.5", 1)' in line)
    assert first.where == f"test_sample.py:{row}"


def test_the_options_the_test_passes_to_its_helper_are_kept(sample_cases):
    cases, _ = sample_cases
    assert cases[0].options == {"match_types": ["expr"]}


def test_a_zero_verdict_is_false(sample_cases):
    cases, _ = sample_cases
    assert [(c.pred, c.expected) for c in cases[:2]] == [("0.5", True), ("three apples", False)]


def test_a_row_that_is_not_literal_is_skipped_with_its_reason(sample_cases):
    cases, skipped = sample_cases
    assert "2" not in [c.gold for c in cases]
    assert any(s.test == "test_numbers" and "not a literal" in s.reason for s in skipped)


def test_positional_options_and_pytest_param_rows_are_read(sample_cases):
    cases, _ = sample_cases
    french = [c for c in cases if c.test == "test_languages"]
    assert [(c.gold, c.pred, c.expected, c.options) for c in french] == [
        ("4", "la réponse est 4", True, {"language": "FRENCH"})]


def test_asserts_with_literal_arguments_are_cases(sample_cases):
    cases, _ = sample_cases
    literal = [(c.gold, c.pred, c.expected, c.options) for c in cases if c.test == "test_literal_calls"]
    assert literal == [("$x$", "$y$", True, {"precision": 3}), ("$1$", "$2$", False, {})]


def test_a_test_of_another_shape_is_reported_not_dropped(sample_cases):
    _, skipped = sample_cases
    assert [s.test for s in skipped if "does not compare" in s.reason] == ["test_something_else"]


def test_the_file_is_parsed_never_run(sample_cases):
    cases, _ = sample_cases  # the sample imports a missing module and raises SystemExit if run
    assert len(cases) == 5


def test_lighteval_needs_a_suite_dir_since_its_sdists_ship_no_tests(suites):
    with pytest.raises(suites.SuiteUnavailable, match="--suite-dir lighteval="):
        suites.load("lighteval")


def test_a_suite_dir_without_the_file_is_refused(suites, tmp_path):
    with pytest.raises(suites.SuiteUnavailable, match="no test_extractive_match.py"):
        suites.load("lighteval", suite_dir=tmp_path)


def test_an_unknown_suite_is_an_error(suites):
    with pytest.raises(ValueError, match="unknown suite"):
        suites.load("nope")


def test_a_test_file_that_is_not_python_is_refused_with_its_line(suites, tmp_path):
    bad = tmp_path / "test_extractive_match.py"
    bad.write_text("def test(:\n", encoding="utf-8")
    with pytest.raises(suites.SuiteUnavailable, match="test_extractive_match.py:1: not a Python test file"):
        suites.load("lighteval", suite_dir=tmp_path)


# --- the settings mmrl is given for a case: those math-verify is given, in mmrl's terms ------------
@pytest.fixture(scope="module")
def bench():
    with benchmark_script("reward_bench") as module:
        yield module


def settings(bench, suites, **options):
    case = suites.SuiteCase("sample", "test_sample.py", 1, "test", "1", "1", True, options)
    return bench._suite_verifier(case)


def test_a_case_without_options_gets_math_verifys_defaults(bench, suites):
    assert settings(bench, suites) == ("math", {"rename_variables": False, "relation_answers_set": False})


def test_strict_false_renames_variables(bench, suites):
    assert settings(bench, suites, strict=False)[1]["rename_variables"] is True


def test_allow_set_relation_comp_lets_relations_answer_sets(bench, suites):
    assert settings(bench, suites, allow_set_relation_comp=True)[1]["relation_answers_set"] is True


def test_latex_only_extraction_is_fallback_math(bench, suites):
    assert settings(bench, suites, match_types=["latex"])[1]["fallback"] == "math"
    assert "fallback" not in settings(bench, suites, match_types=["latex", "expr"])[1]


def test_precision_is_an_absolute_tolerance(bench, suites):
    assert settings(bench, suites, precision=3)[1]["abs_tol"] == pytest.approx(1e-3)


def test_letter_cases_go_to_choice(bench, suites):
    assert settings(bench, suites, match_types=["NativeLetters"]) == ("choice", {})
