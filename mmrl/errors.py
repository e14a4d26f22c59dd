"""Errors that the command line turns into a clear message and exit status 2."""
from __future__ import annotations


class MmrlError(Exception):
    """A user-facing error: bad input, bad config, a missing model. Exit status 2."""

    exit_code = 2


class DataError(MmrlError):
    """A problem with one record of an input file, located as ``PATH:LINE: field: reason``."""

    def __init__(self, path: str, line: int | None, reason: str, field: str | None = None):
        self.path, self.line, self.reason, self.field = str(path), line, reason, field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


class DataErrors(MmrlError):
    """Several record problems reported at once (validation lists every problem, not the first)."""

    def __init__(self, errors: list[DataError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


class ConfigError(MmrlError):
    """A recipe or flag combination that cannot work."""
