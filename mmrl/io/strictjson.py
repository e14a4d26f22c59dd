"""JSON as the standard defines it, and UTF-8 text, for every file mmrl reads.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and lone UTF-16 surrogates
(``"\\ud800"``); neither is valid JSON text, and both make a later stage crash (writing JSON,
encoding UTF-8, tokenizing). They are refused here, when a file is read, naming the field.
Bytes that are not UTF-8 are refused with their line and column.
"""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

from mmrl.errors import DataError

# A \uD800-\uDFFF escape: the only way a surrogate gets into text decoded from valid UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_CONSTANTS = ("NaN", "Infinity")
# Lists and objects nested deeper than this are refused: no record needs it, and recursive code
# (Python's json, every walk over a record) fails near a thousand levels with a RecursionError.
MAX_DEPTH = 100


class JsonValueError(ValueError):
    """A parsed JSON value that is not valid JSON text: ``field`` names where (None: the top)."""

    def __init__(self, field: str | None, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}" if field else reason)


def _join(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def _lone_surrogate(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        return f"\\u{ord(text[e.start]):04x}"
    return None


def invalid_value(value: Any, field: str = "") -> JsonValueError | None:
    """The first part of a decoded value that is not valid JSON text (a non-finite number, a
    string with a lone surrogate, a value of a type JSON lacks: bytes, dates from a Parquet
    column), as a JsonValueError naming its field; None when clean."""
    if isinstance(value, float):
        if not math.isfinite(value):
            name = "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            return JsonValueError(field or None, f"{name} is not valid JSON (use a number or null)")
        return None
    if isinstance(value, str):
        bad = _lone_surrogate(value)
        if bad:
            return JsonValueError(field or None, f"lone surrogate {bad} in a string (not valid Unicode text)")
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            bad = _lone_surrogate(k) if isinstance(k, str) else None
            if bad:
                return JsonValueError(field or None, f"lone surrogate {bad} in a key (not valid Unicode text)")
            found = invalid_value(v, _join(field, k))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = invalid_value(v, _join(field, i))
            if found:
                return found
        return None
    if value is None or isinstance(value, (bool, int)):
        return None
    if isinstance(value, (bytes, bytearray)):
        return JsonValueError(field or None, "holds binary data, which a JSON record cannot carry (an image column? "
                                             "map it with --columns images=COLUMN; else drop the column)")
    return JsonValueError(field or None, f"a {type(value).__name__} value is not JSON (store it as text or a number)")


def nesting_depth(value: Any) -> int:
    """How deep lists and objects nest in a decoded value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, depth)
            if depth > MAX_DEPTH:
                break
            stack.extend((child, depth + 1) for child in node if isinstance(child, (list, dict)))
    return deepest


def _too_deep() -> JsonValueError:
    return JsonValueError(None, f"lists or objects nested more than {MAX_DEPTH} levels deep (no record needs "
                                "that; the file is damaged or hostile)")


def loads(text: str, check: bool = True) -> Any:
    """``json.loads``, refusing what is not valid JSON text: json.JSONDecodeError for syntax,
    JsonValueError for NaN/Infinity constants and lone surrogates (naming the field; ``check=False``
    leaves those to the caller, who knows where each row is) and for nesting deeper than
    ``MAX_DEPTH`` (which would end every recursive reader in a RecursionError)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    if text.count("[") + text.count("{") > MAX_DEPTH and nesting_depth(value) > MAX_DEPTH:
        raise _too_deep()
    if check and (any(c in text for c in _CONSTANTS) or _SURROGATE_ESCAPE.search(text)):
        found = invalid_value(value)
        if found:
            raise found
    return value


def utf8_problem(data: bytes, e: UnicodeDecodeError) -> tuple[int, str]:
    """For bytes that failed to decode: (1-based line of the bad byte, reason with its column)."""
    line = data.count(b"\n", 0, e.start) + 1
    column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
    return line, f"not UTF-8 text: byte 0x{data[e.start]:02x} at column {column} (save the file as UTF-8)"


def read_json_file(path: str | os.PathLike, check: bool = True) -> Any:
    """One JSON document from a UTF-8 file; every problem is a DataError ``PATH[:LINE]: ...``
    (``check=False``: NaN and lone surrogates are left for the caller to locate, as ``loads``)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise DataError(str(path), None, f"cannot read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line, reason = utf8_problem(data, e)
        raise DataError(str(path), line, reason) from None
    try:
        return loads(text, check)
    except json.JSONDecodeError as e:
        raise DataError(str(path), e.lineno, f"invalid JSON: {e.msg} (column {e.colno})") from None
    except JsonValueError as e:
        raise DataError(str(path), None, e.reason, e.field) from None
