"""Public data layouts onto the sample fields: ``--columns question=problem,answer=solution``.

The sample fields are fixed (docs/data-format.md); public data sets name them otherwise. Each row
is mapped before it is checked:

1. ``--columns FIELD=COLUMN,...`` (recipe key ``columns``): FIELD is taken from COLUMN, replacing
   what the row had under FIELD; a dotted COLUMN reaches into a struct
   (``answer=reward_model.ground_truth``).
2. A field the row lacks is taken from the one alias column the row holds (``ALIASES``:
   ``question`` from ``problem`` or verl's ``prompt``, ``answer`` from ``solution`` or
   ``reward_model.ground_truth``, ``images`` from ``image``, ``source`` from ``data_source``).
   A row holding two of them is refused as ambiguous, naming both, rather than one picked; a field
   the row holds under its own name is never replaced by an alias.

A column taken is moved: the record carries it on under the field's name only. A chat list
(verl's ``prompt``: ``[{"role": "user", "content": "<image>..."}]``) becomes the question when
it is exactly one user turn; a single image becomes a list of one.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmrl.errors import ConfigError, FieldError

FIELDS = ("id", "question", "images", "answer", "choices", "source", "reward", "key_steps", "difficulty",
          "response", "messages", "meta")
ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("problem", "prompt"),
    "answer": ("solution", "reward_model.ground_truth"),
    "images": ("image",),
    "source": ("data_source",),
}
Columns = Mapping[str, str]


def parse_columns(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"question=problem,answer=solution"`` (or a recipe's mapping) as ``{field: column}``; a
    ConfigError for a malformed pair, an unknown field or a field given twice."""
    if not text:
        return {}
    pairs = list(text.items()) if isinstance(text, Mapping) else []
    if not isinstance(text, Mapping):
        for part in str(text).split(","):
            if not part.strip():
                continue
            field, sep, column = part.partition("=")
            if not sep or not field.strip() or not column.strip():
                raise ConfigError(f"--columns takes FIELD=COLUMN pairs separated by commas, e.g. "
                                  f"question=problem,answer=solution; got {part.strip()!r}")
            pairs.append((field, column))
    out: dict[str, str] = {}
    for field, column in pairs:
        field, column = str(field).strip(), str(column).strip()
        if field not in FIELDS:
            raise ConfigError(f"--columns: {field!r} is not a sample field; fields: {', '.join(FIELDS)}")
        if field in out:
            raise ConfigError(f"--columns: {field} is given twice ({out[field]} and {column})")
        taken = [f for f, c in out.items() if c == column]
        if taken:
            raise ConfigError(f"--columns: column {column!r} is mapped to two fields ({taken[0]} and {field}); "
                              "a column is moved into one field")
        out[field] = column
    return out


def map_columns(record: dict[str, Any], columns: Columns | None = None) -> dict[str, Any]:
    """The record with its fields taken from ``columns`` and the aliases (see the module
    docstring); a FieldError naming the field for an ambiguous row or a value that cannot be it."""
    out = dict(record)
    columns = columns or {}
    for field, column in columns.items():
        if not _present(out, column):
            raise FieldError(field, f"column {column!r} (--columns {field}={column}) is not in this row; "
                                    f"its columns: {', '.join(sorted(map(str, out)))}")
        value = _take(out, column)
        if value is not None:
            out[field] = _as_field(field, value, column)
    used = set(columns.values())
    for field, aliases in ALIASES.items():
        if field in columns or _has(out, field) or (field == "question" and _has(out, "messages")):
            continue
        present = [c for c in aliases if c not in used and _peek(out, c) is not None]
        if len(present) > 1:
            raise FieldError(field, f"ambiguous: columns {' and '.join(repr(c) for c in present)} could each be the "
                                    f"{field}; say which with --columns {field}=COLUMN")
        if present:
            out[field] = _as_field(field, _take(out, present[0]), present[0])
    return out


def _has(record: dict[str, Any], field: str) -> bool:
    return record.get(field) is not None


def _present(record: dict[str, Any], column: str) -> bool:
    if column in record:
        return True
    head, dot, rest = column.partition(".")
    return bool(dot) and isinstance(record.get(head), dict) and _present(record[head], rest)


def _peek(record: dict[str, Any], column: str) -> Any:
    if column in record:
        return record[column]
    head, dot, rest = column.partition(".")
    if dot and isinstance(record.get(head), dict):
        return _peek(record[head], rest)
    return None


def _take(record: dict[str, Any], column: str) -> Any:
    """Remove ``column`` (dotted: inside a struct, dropping the struct when nothing is left of it)
    from the record and return its value; None when the row has none."""
    if column in record:
        return record.pop(column)
    head, dot, rest = column.partition(".")
    if not dot or not isinstance(record.get(head), dict):
        return None
    inner = dict(record[head])
    value = _take(inner, rest)
    if inner:
        record[head] = inner
    else:
        del record[head]
    return value


def _as_field(field: str, value: Any, column: str) -> Any:
    if field == "question" and isinstance(value, list):
        return chat_question(value, column)
    if field == "images" and not isinstance(value, (list, tuple)):
        return [value]
    return value


def chat_question(chat: list[Any], column: str) -> str:
    """The text of a chat list that is exactly one user turn with text content (verl's ``prompt``);
    anything else is refused, since a sample's question is one user turn."""
    if not all(isinstance(m, dict) for m in chat):
        raise FieldError("question", f"column {column!r} is a list but not a chat of {{role, content}} turns")
    others = [m.get("role") for m in chat if m.get("role") != "user"]
    if others:
        raise FieldError("question", f"column {column!r} holds a {others[0]} turn; a sample's question is one user "
                                     "turn (give a system prompt with --system, or map question to a text column)")
    if len(chat) != 1:
        raise FieldError("question", f"column {column!r} holds {len(chat)} user turns; a sample's question is one "
                                     "(map question to a text column)")
    content = chat[0].get("content")
    if not isinstance(content, str):
        raise FieldError("question", f"column {column!r}: the user turn's content must be text (with <image> "
                                     f"placeholders), got {type(content).__name__}")
    return content
