"""The warm-up SFT set: the training samples with their answers shuffled among those of the same task."""
from __future__ import annotations

import json
from collections import Counter

from mmrl.demo.warmup_data import shuffle_answers, write_shuffled


def sample(i, source, answer):
    return {"id": f"s{i}", "source": source, "images": [f"images/{i}.png"], "question": "q", "answer": answer,
            "response": f"<think>It is {answer}.</think><answer>{answer}</answer>"}


def colours(n):
    return [sample(i, "synth/colour", ("red", "green", "blue", "yellow")[i % 4]) for i in range(n)]


def test_answers_keep_their_counts_but_most_move_to_other_images():
    records = colours(40)
    out = shuffle_answers(records, seed=0)
    assert Counter(r["answer"] for r in out) == Counter(r["answer"] for r in records)
    assert sum(a["answer"] != b["answer"] for a, b in zip(records, out)) > 20


def test_a_shuffled_answer_travels_with_its_response_and_nothing_else_moves():
    records = colours(12)
    for before, after in zip(records, shuffle_answers(records, seed=1)):
        assert after["response"].endswith(f"<answer>{after['answer']}</answer>")
        assert {k: v for k, v in after.items() if k not in ("answer", "response")} == \
               {k: v for k, v in before.items() if k not in ("answer", "response")}


def test_answers_stay_within_their_task():
    records = colours(8) + [sample(100 + i, "synth/position", "top left") for i in range(8)]
    out = shuffle_answers(records, seed=2)
    assert all(r["answer"] == "top left" for r in out if r["source"] == "synth/position")


def test_the_same_seed_gives_the_same_shuffle_and_the_input_is_not_changed():
    records = colours(16)
    snapshot = json.dumps(records)
    assert shuffle_answers(records, 3) == shuffle_answers(records, 3) != shuffle_answers(records, 4)
    assert json.dumps(records) == snapshot


def test_written_beside_the_training_file(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in colours(8)), encoding="utf-8")
    changed = write_shuffled(train, tmp_path / "sft.jsonl", seed=0)
    rows = [json.loads(x) for x in (tmp_path / "sft.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 8 and changed == sum(a["answer"] != b["answer"] for a, b in zip(colours(8), rows))
