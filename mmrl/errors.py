"""Errors that the command line turns into a clear message and exit status 2."""
from __future__ import annotations


class MmrlError(Exception):
    """A user-facing error: bad input, bad config, a missing model. Exit status 2."""

    exit_code = 2


LINE, ROW = "line", "row"


def position(line: int, unit: str = LINE) -> str:
    """Where a record sits in its file, in words: ``line 7`` (JSONL, 1-based) or ``row 6``
    (Parquet and datasets, 0-based as ``dataset[6]`` and ``DataFrame.iloc[6]`` count)."""
    return f"{unit} {line}"


def location(path: str, line: int | None, unit: str = LINE) -> str:
    """``PATH:LINE`` for a line, ``PATH:row N`` for a row, ``PATH`` for the whole file: the one
    place that says how a record's place is written in messages."""
    if line is None:
        return path
    return f"{path}:{line}" if unit == LINE else f"{path}:{position(line, unit)}"


class DataError(MmrlError):
    """A problem with one record of an input file, located as ``PATH:LINE: field: reason``
    (``PATH:row N: field: reason`` for a row of a Parquet file or dataset)."""

    def __init__(self, path: str, line: int | None, reason: str, field: str | None = None, unit: str = LINE):
        self.path, self.line, self.reason, self.field, self.unit = str(path), line, reason, field, unit
        super().__init__(str(self))

    def __str__(self) -> str:
        where = location(self.path, self.line, self.unit)
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class FieldError(ValueError):
    """A problem with one field of a record, raised where the record's place is not known; the
    reader that knows it turns it into a DataError (``Located.error(e.reason, e.field)``)."""

    def __init__(self, field: str, reason: str):
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


class DataErrors(MmrlError):
    """Several record problems reported at once (validation lists every problem, not the first)."""

    def __init__(self, errors: list[DataError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ConfigError(MmrlError):
    """A recipe or flag combination that cannot work."""
