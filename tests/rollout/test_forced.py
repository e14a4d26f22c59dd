"""Two-phase forced answering, as the vllm and openai backends run it."""
from __future__ import annotations

from mmrl.rollout import Completion, Prompt, SamplingParams
from mmrl.rollout.forced import first_phase_params, generate_with_forcing, merge, plan_continuations

PARAMS = SamplingParams(n=3, max_new_tokens=100, think_budget=10, answer_budget=5)


def comp(text, reason, num, ids=None):
    return Completion(text, ids if ids is not None else list(range(num)), reason, num)


FIRST = [[comp("<think>short</think><answer>1</answer>", "stop", 7),  # done within the budget
          comp("<think>still going", "length", 10),                    # budget hit, thinking open
          comp("<think>x</think><answer>long", "length", 10)]]         # budget hit, thinking closed


def test_first_phase_uses_the_think_budget():
    p = first_phase_params(PARAMS)
    assert (p.max_new_tokens, p.think_budget, p.n) == (10, None, 3)


def test_plan_forces_open_thinking_and_continues_closed_thinking():
    plan = plan_continuations(FIRST, PARAMS)
    assert [(c.draw, c.forced, c.budget, c.prefix) for c in plan] == [
        (1, True, 5, "<think>still going</think><answer>"),
        (2, False, 90, "<think>x</think><answer>long"),
    ]


def test_merge_joins_text_tokens_and_reason():
    plan = plan_continuations(FIRST, PARAMS)
    merged = merge(FIRST[0][1], plan[0], comp("3</answer>", "stop", 2, [70, 71]), forced_ids=[50, 51])
    assert merged.text == "<think>still going</think><answer>3</answer>"
    assert merged.token_ids == list(range(10)) + [50, 51, 70, 71]
    assert (merged.finish_reason, merged.num_tokens) == ("forced", 14)


def test_merge_masks_the_inserted_tokens_out_of_the_loss():
    plan = plan_continuations(FIRST, PARAMS)
    merged = merge(FIRST[0][1], plan[0], comp("3</answer>", "stop", 2, [70, 71]), forced_ids=[50, 51])
    assert merged.loss_mask == [1] * 10 + [0, 0] + [1, 1]


def test_generate_with_forcing_runs_both_phases():
    calls = []

    def draw(prompts, params):
        calls.append(("draw", params.max_new_tokens))
        return [list(FIRST[0])]

    def cont(prompts, plan, params):
        calls.append(("continue", [c.draw for c in plan]))
        return [comp("A</answer>", "stop", 2) for _ in plan]

    (out,) = generate_with_forcing([Prompt("p", [], [], {})], PARAMS, draw, cont, forced_ids=[9])
    assert calls == [("draw", 10), ("continue", [1, 2])]
    assert [c.finish_reason for c in out] == ["stop", "forced", "stop"]
    assert out[1].text.endswith("</think><answer>A</answer>") and out[1].num_tokens == 13


def test_without_a_budget_there_is_one_phase():
    params = SamplingParams(n=1)
    out = generate_with_forcing([], params, lambda p, s: ["drawn"], lambda *a: 1 / 0)
    assert out == ["drawn"]


def test_plan_continues_from_the_drawn_ids_and_the_forced_ids():
    plan = plan_continuations(FIRST, PARAMS, forced_ids=[50, 51])
    assert [c.prefix_ids for c in plan] == [tuple(range(10)) + (50, 51), tuple(range(10))]
