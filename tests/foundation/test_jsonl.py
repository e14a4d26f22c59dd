"""The JSONL contract: reading, errors that name PATH:LINE, safe writes and resume."""
from __future__ import annotations

import gzip
import json

import pytest

from mmrl.errors import DataError
from mmrl.io.jsonl import (
    JsonlWriter,
    iter_located,
    key_id_sample,
    open_output,
    read_complete_prefix,
    read_jsonl,
    write_jsonl,
)


def write_lines(path, *lines: str) -> str:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_records_come_with_their_line_numbers(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", '{"id": "a"}', "", '{"id": "b"}')
    items = list(iter_located(f))
    assert [(i.record["id"], i.line) for i in items] == [("a", 1), ("b", 3)]


def test_bad_json_names_the_file_and_line(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", '{"id": "a"}', '{"id": ')
    with pytest.raises(DataError) as e:
        read_jsonl(f)
    assert str(e.value).startswith(f"{f}:2: invalid JSON")


def test_a_line_that_is_not_an_object_is_an_error(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", "[1, 2]")
    with pytest.raises(DataError, match=r":1: expected a JSON object, got list"):
        read_jsonl(f)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_jsonl(tmp_path / "nope.jsonl")


def test_unknown_fields_pass_through_unchanged(tmp_path):
    rec = {"id": "x", "question": "q", "zz_custom": {"nested": [1, 2]}, "meta": {"k": "é"}}
    out = tmp_path / "o.jsonl"
    write_jsonl(out, [rec])
    assert read_jsonl(out) == [rec]
    assert list(json.loads(out.read_text()).keys()) == list(rec.keys())


def test_gzip_by_extension_round_trips(tmp_path):
    out = tmp_path / "o.jsonl.gz"
    write_jsonl(out, [{"id": "a"}, {"id": "b"}])
    with gzip.open(out, "rt") as f:
        assert f.read().count("\n") == 2
    assert [r["id"] for r in read_jsonl(out)] == ["a", "b"]


def test_stdin_is_read_when_the_path_is_dash(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "s"}\n')))
    assert read_jsonl("-") == [{"id": "s"}]


def test_atomic_write_leaves_the_old_file_when_interrupted(tmp_path):
    out = tmp_path / "o.jsonl"
    write_jsonl(out, [{"id": "old"}])
    with pytest.raises(RuntimeError):
        with JsonlWriter(out) as w:
            w.write({"id": "new"})
            raise RuntimeError("crash")
    assert read_jsonl(out) == [{"id": "old"}]
    assert [p.name for p in tmp_path.iterdir()] == ["o.jsonl"]  # no temporary left behind


def test_nan_is_refused_because_it_is_not_json(tmp_path):
    with pytest.raises(ValueError):
        write_jsonl(tmp_path / "o.jsonl", [{"x": float("nan")}])


def test_resume_skips_done_keys_and_appends(tmp_path):
    out = tmp_path / "o.jsonl"
    write_jsonl(out, [{"id": "a", "sample": 0}, {"id": "a", "sample": 1}])
    writer, state = open_output(out, resume=True, key=key_id_sample)
    assert state.done == {("a", 0), ("a", 1)} and state.kept == 2
    with writer:
        for rec in [{"id": "a", "sample": 1}, {"id": "b", "sample": 0}]:
            if key_id_sample(rec) not in state.done:
                writer.write(rec)
    assert [key_id_sample(r) for r in read_jsonl(out)] == [("a", 0), ("a", 1), ("b", 0)]


def test_resume_drops_a_half_written_last_line(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "a", "sample": 0}\n{"id": "a", "sa', encoding="utf-8")
    writer, state = open_output(out, resume=True, key=key_id_sample)
    writer.close()
    assert state.repaired and state.done == {("a", 0)}
    assert read_jsonl(out) == [{"id": "a", "sample": 0}]


def test_resume_keeps_a_complete_last_record_missing_its_newline(tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text('{"id": "a", "sample": 0}', encoding="utf-8")
    records, damaged = read_complete_prefix(out)
    assert records == [{"id": "a", "sample": 0}] and damaged


def test_resume_of_a_truncated_gzip_keeps_the_complete_records(tmp_path):
    out = tmp_path / "o.jsonl.gz"
    write_jsonl(out, [{"id": str(i), "sample": 0, "pad": "x" * 200} for i in range(50)])
    data = out.read_bytes()
    out.write_bytes(data[: len(data) // 2])
    writer, state = open_output(out, resume=True, key=key_id_sample)
    writer.close()
    kept = read_jsonl(out)
    assert 0 < len(kept) < 50 and state.done == {(r["id"], 0) for r in kept}


def test_without_resume_the_output_starts_empty(tmp_path):
    out = tmp_path / "o.jsonl"
    write_jsonl(out, [{"id": "a"}])
    writer, state = open_output(out, resume=False)
    with writer:
        writer.write({"id": "b"})
    assert read_jsonl(out) == [{"id": "b"}] and not state.done


def test_resume_needs_a_file_not_stdout():
    with pytest.raises(DataError, match="--resume needs an output file"):
        open_output("-", resume=True, key=key_id_sample)


# Values Python's json accepts but JSON does not: refused when read, naming line and field.

@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused_naming_the_field(tmp_path, constant):
    line = '{"id": "b", "reward": {"weights": {"accuracy": %s}}}' % constant
    f = write_lines(tmp_path / "a.jsonl", '{"id": "a"}', line)
    with pytest.raises(DataError) as e:
        read_jsonl(f)
    assert str(e.value) == f"{f}:2: reward.weights.accuracy: {constant} is not valid JSON (use a number or null)"


def test_the_word_nan_inside_a_string_is_fine(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", '{"id": "NaN", "question": "Infinity and \\ud83d\\ude00"}')
    assert read_jsonl(f) == [{"id": "NaN", "question": "Infinity and \U0001F600"}]


def test_a_lone_surrogate_is_refused_naming_the_field(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", '{"id": "a", "choices": ["x", "y\\ud800"]}')
    with pytest.raises(DataError) as e:
        read_jsonl(f)
    assert str(e.value) == f"{f}:1: choices[1]: lone surrogate \\ud800 in a string (not valid Unicode text)"


def test_a_lone_surrogate_in_a_key_is_refused(tmp_path):
    f = write_lines(tmp_path / "a.jsonl", '{"id": "a", "meta": {"\\udfff": 1}}')
    with pytest.raises(DataError, match=r":1: meta: lone surrogate \\udfff in a key"):
        read_jsonl(f)


def test_bytes_that_are_not_utf8_are_located_on_their_own_line(tmp_path):
    f = tmp_path / "a.jsonl"
    good = b'{"id": "%d", "pad": "' + b"x" * 5000 + b'"}\n'
    f.write_bytes(b"".join(good.replace(b"%d", str(i).encode()) for i in range(5)) + b'{"id": "\xff"}\n')
    with pytest.raises(DataError) as e:
        read_jsonl(f)
    assert str(e.value) == f"{f}:6: not UTF-8 text: byte 0xff at column 9 (save the file as UTF-8)"


def test_reading_goes_on_past_a_line_that_is_not_utf8(tmp_path):
    from mmrl.io.jsonl import iter_parsed

    f = tmp_path / "a.jsonl"
    f.write_bytes(b'{"id": "\xfe"}\n{"id": "b"}\n')
    items = list(iter_parsed(f))
    assert isinstance(items[0], DataError) and items[0].line == 1
    assert items[1].record == {"id": "b"}


def test_stdin_that_is_not_utf8_is_a_located_error(monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"id": "s"}\n{"id": "\xc3("}\n')))
    with pytest.raises(DataError, match=r"^<stdin>:2: not UTF-8 text: byte 0xc3 at column 9"):
        read_jsonl("-")
