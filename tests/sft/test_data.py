"""Loading SFT data: every problem named by file, line and field; drops counted by reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from mmrl.errors import DataError
from mmrl.sft import SFTConfig
from mmrl.sft.curation import FORMAT, MIXED, REPEATED, drop_reason, make_curator
from mmrl.sft.data import load_sft_data, read_sft_records


def _cfg(data, **kw):
    return SFTConfig.from_flags(model="m", data=data, out="o", **kw)


def _good(i=0):
    return {"id": f"g{i}", "question": "What is 2 + 2?", "response": "<think>2 + 2 = 4</think><answer>4</answer>"}


def test_a_record_without_response_is_named_by_line_and_field(write_jsonl, processor):
    path = write_jsonl([_good(0), {"id": "bad", "question": "Why?"}])
    with pytest.raises(DataError, match=r"sft\.jsonl:2: response: required"):
        load_sft_data(_cfg(path), processor, show_progress=False)


def test_a_duplicate_id_is_an_error(write_jsonl, processor):
    path = write_jsonl([_good(0), _good(0)])
    with pytest.raises(DataError, match=r":2: id: duplicate id 'g0' \(first on line 1\)"):
        load_sft_data(_cfg(path), processor, show_progress=False)


def test_a_missing_image_is_an_error_on_its_line(write_jsonl, processor):
    path = write_jsonl([_good(0), {**_good(1), "images": ["images/nope.png"]}])
    with pytest.raises(DataError, match=r":2: images\[0\]: image file not found"):
        load_sft_data(_cfg(path), processor, show_progress=False)


def test_too_long_is_an_error_naming_the_line_unless_dropped(write_jsonl, processor):
    long = {**_good(1), "response": "<think>" + "two plus two " * 40 + "</think><answer>4</answer>"}
    path = write_jsonl([_good(0), long])
    with pytest.raises(DataError, match=r":2: response: \d+ tokens exceed --max-length 120"):
        load_sft_data(_cfg(path, max_length=120), processor, show_progress=False)
    data = load_sft_data(_cfg(path, max_length=120, truncation="drop"), processor, show_progress=False)
    assert len(data) == 1 and data.dropped == {"too long": 1}


def test_lengths_and_trained_token_counts_are_measured(synth_file, processor):
    data = load_sft_data(_cfg(synth_file), processor, show_progress=False)
    assert len(data) == 12 and data.cache is not None
    ex = data.example(3)
    assert data.lengths[3] == ex["input_ids"].numel()
    assert data.targets[3] == int((ex["labels"][1:] != -100).sum()) > 0


def test_nothing_usable_is_an_error(write_jsonl, processor):
    path = write_jsonl([{**_good(0), "response": "just an answer"}])
    with pytest.raises(DataError, match="no usable SFT records"):
        load_sft_data(_cfg(path), processor, curate=make_curator(), show_progress=False)


def test_curation_counts_each_reason(write_jsonl, processor):
    loop = "I count the circles again and check the number. " * 12
    records = [
        _good(0),
        {**_good(1), "response": "The answer is 4."},
        {**_good(2), "response": "<think>Two plus two is four.\n\n二加二等于四，所以答案是四，这很简单。</think><answer>4</answer>"},
        {**_good(3), "response": f"<think>{loop}</think><answer>4</answer>"},
    ]
    data = load_sft_data(_cfg(write_jsonl(records)), processor, curate=make_curator(), show_progress=False)
    assert [item.record["id"] for item in data.records] == ["g0"]
    assert data.dropped == {FORMAT: 1, MIXED: 1, REPEATED: 1}


def test_curation_checks_the_format_of_the_last_assistant_turn_only():
    chat = {"id": "c", "messages": [
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! Ask away."},
        {"role": "user", "content": "2 + 2?"}, {"role": "assistant", "content": "<think>2 + 2 = 4</think><answer>4</answer>"},
    ]}
    assert drop_reason(chat) is None
    chat["messages"][-1]["content"] = "4"
    assert drop_reason(chat) == FORMAT


def test_synthetic_cold_start_data_passes_the_filter(synth_records):
    assert all(drop_reason(r) is None for r in synth_records)


MULBERRY = ("### Image Description:\nThe image shows four circles.\n### Rationales:\nCounting objects.\n"
            "### Let's think step by step.\n### Step 1:\nThere are 2 circles on the left.\n"
            "### Step 2:\n2 + 2 = 4.\n### The final answer is: 4")


def test_mulberry_format_is_read_as_think_answer_and_kept_by_the_filter(write_jsonl, processor):
    # R1-VL warms up on Mulberry-260k: its "### Step N:" records are converted, not dropped as "format"
    path = write_jsonl([{**_good(0), "response": MULBERRY}])
    data = load_sft_data(_cfg(path), processor, curate=make_curator(), show_progress=False,
                         records=read_sft_records(_cfg(path)))
    assert data.dropped == {} and len(data.records) == 1
    response = data.records[0].record["response"]
    assert response.startswith("<think>### Image Description:") and "### Step 2:\n2 + 2 = 4.</think>" in response
    assert response.endswith("<answer>4</answer>")


def test_mulberry_conversion_does_not_touch_the_input_file(write_jsonl):
    path = write_jsonl([{**_good(0), "response": MULBERRY}])
    before = Path(path).read_bytes()
    read_sft_records(_cfg(path))
    assert Path(path).read_bytes() == before


def test_mulberry_conversion_reads_the_last_assistant_turn():
    from mmrl.sft.mulberry import converted

    chat = {"id": "c", "messages": [{"role": "user", "content": "How many?"},
                                    {"role": "assistant", "content": MULBERRY}]}
    assert converted(chat)["messages"][-1]["content"].endswith("<answer>4</answer>")
    assert converted({"id": "d", "response": "<think>a</think><answer>4</answer>"}) is None
