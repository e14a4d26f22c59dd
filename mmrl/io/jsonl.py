"""The JSONL contract every subcommand shares (shared/SPEC.md).

One JSON object per line, UTF-8; a path, ``-`` for stdin/stdout, and gzip when the name ends in
``.gz``. Reading yields each record with its line number so that any later problem can be
reported as ``PATH:LINE: field: reason``. Writing is either atomic (temporary file renamed on
success) or append-with-flush (each record durable as soon as it is written, which is what
``--resume`` builds on). Unknown fields are never touched: records are plain dicts.
"""
from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mmrl.errors import LINE, DataError, position
from mmrl.io import strictjson

STDIO = "-"

Record = dict[str, Any]
KeyFn = Callable[[Record], Hashable]


@dataclass(frozen=True)
class Located:
    """A record and where it came from, so errors can name the file and line (or row: ``unit``
    is ``row`` for Parquet files and datasets, whose rows count from 0)."""

    record: Record
    path: str
    line: int
    unit: str = LINE

    def error(self, reason: str, field: str | None = None) -> DataError:
        return DataError(self.path, self.line, reason, field, self.unit)

    @property
    def where(self) -> str:
        """``line 7`` or ``row 6``: this record's place, for messages that point back at it."""
        return position(self.line, self.unit)


def display_name(src: str | os.PathLike) -> str:
    return "<stdin>" if str(src) == STDIO else str(src)


def _is_gzip(path: str | os.PathLike) -> bool:
    return str(path).endswith(".gz")


def open_bytes(src: str | os.PathLike) -> IO[bytes]:
    """The bytes of a path (gunzipped for ``.gz``) or of stdin: lines are decoded one by one, so
    that a byte that is not UTF-8 is reported on its own line."""
    if str(src) == STDIO:
        return getattr(sys.stdin, "buffer", None) or _TextAsBytes(sys.stdin)
    path = Path(src)
    if not path.exists():
        raise DataError(str(src), None, "no such file")
    if path.is_dir():
        raise DataError(str(src), None, "is a directory, expected a JSONL file")
    try:
        return gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")
    except OSError as e:
        raise DataError(str(src), None, f"cannot read: {e.strerror or e}") from None


class _TextAsBytes:
    """A text stream (a test's StringIO as stdin) read line by line as UTF-8 bytes."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def readline(self) -> bytes:
        return self.stream.readline().encode("utf-8", errors="surrogateescape")


def parse_line(text: str, path: str, line: int) -> Record | None:
    """Parse one line; ``None`` for a blank line, a DataError for anything but a JSON object.

    NaN, Infinity and lone surrogates are refused (they are not JSON text), naming the field.
    """
    if not text.strip():
        return None
    try:
        value = strictjson.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(path, line, f"invalid JSON: {e.msg} (column {e.colno})") from None
    except strictjson.JsonValueError as e:
        raise DataError(path, line, e.reason, e.field) from None
    if not isinstance(value, dict):
        raise DataError(path, line, f"expected a JSON object, got {type(value).__name__}")
    return value


def iter_parsed(src: str | os.PathLike, name: str | None = None) -> Iterator[Located | DataError]:
    """Yield each non-blank line as a Located record, or as the DataError that it is.

    Reading goes on past a bad line, so that validation can list every problem of a file.
    ``name``: how messages name the file (a copy of stdin is named ``<stdin>``).
    """
    name = name or display_name(src)
    stream = open_bytes(src)
    try:
        lineno = 0
        while True:
            try:
                raw = stream.readline()
            except (OSError, EOFError, UnicodeDecodeError, zlib.error) as e:
                yield DataError(name, lineno + 1, f"unreadable: {e}")
                return
            if not raw:
                return
            lineno += 1
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                yield DataError(name, lineno, strictjson.utf8_problem(raw, e)[1])
                continue
            try:
                record = parse_line(text, name, lineno)
            except DataError as e:
                yield e
                continue
            if record is not None:
                yield Located(record, name, lineno)
    finally:
        if str(src) != STDIO:
            stream.close()


def iter_located(src: str | os.PathLike) -> Iterator[Located]:
    """Yield every record of a JSONL file (or stdin) with its 1-based line number.

    Blank lines are allowed and skipped; anything else that is not a JSON object raises a
    DataError naming the file and line.
    """
    for item in iter_parsed(src):
        if isinstance(item, DataError):
            raise item
        yield item


def iter_records(src: str | os.PathLike) -> Iterator[Record]:
    for item in iter_located(src):
        yield item.record


def read_jsonl(src: str | os.PathLike) -> list[Record]:
    return list(iter_records(src))


def dumps(record: Record) -> str:
    """One JSON line; non-ASCII kept as is, NaN refused (it is not JSON)."""
    return json.dumps(record, ensure_ascii=False, allow_nan=False)


def _gunzip_prefix(data: bytes) -> tuple[bytes, bool]:
    """Decompress every gzip member (append mode writes several); return what decompresses and
    whether the stream was cut short or damaged."""
    out = b""
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(data)
        except zlib.error:
            return out, True
        if not d.eof:
            return out, True
        data = d.unused_data
    return out, False


def read_complete_prefix(path: str | os.PathLike) -> tuple[list[Record], bool]:
    """Read the records of an output that a crashed run may have cut short.

    Returns the records of every complete, parseable line and whether the file ended in a
    damaged tail (a last line without its newline that does not parse, or a truncated gzip
    member). A damaged line that is *not* the last one is a real error and raises.
    """
    path = Path(path)
    cut = False
    if _is_gzip(path):
        raw, cut = _gunzip_prefix(path.read_bytes())
    else:
        raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    tail = lines.pop()  # "" when the file ends with a newline
    records: list[Record] = []
    for i, line in enumerate(lines, start=1):
        record = parse_line(line, str(path), i)
        if record is not None:
            records.append(record)
    damaged = cut
    if tail.strip():
        try:
            record = parse_line(tail, str(path), len(lines) + 1)
        except DataError:
            damaged = True
        else:
            # A complete object whose newline was lost: keep it, but rewrite to add the newline.
            records.append(record)  # type: ignore[arg-type]
            damaged = True
    return records, damaged


class JsonlWriter:
    """Writes records to a path or stdout.

    ``mode="atomic"``: records go to a temporary file beside the target, renamed over it when the
    writer closes without error (an interrupted run leaves the old file untouched).
    ``mode="append"``: each record is appended and flushed at once, so that ``--resume`` can pick
    up after a crash; the file is truncated first unless ``keep_existing``.
    """

    def __init__(self, dst: str | os.PathLike, mode: str = "atomic", keep_existing: bool = False):
        if mode not in ("atomic", "append"):
            raise ValueError(f"unknown write mode {mode!r}")
        self.dst, self.mode, self.count = str(dst), mode, 0
        self._tmp: str | None = None
        if self.dst == STDIO:
            self._stream: IO[str] = sys.stdout
            return
        try:
            self._stream = self._open(Path(self.dst), mode, keep_existing)
        except OSError as e:  # check_outputs refuses most of these before any work; this is the rest
            raise DataError(self.dst, None, f"cannot write: {e.strerror or e}") from None

    def _open(self, path: Path, mode: str, keep_existing: bool) -> IO[str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        if mode == "atomic":
            fd, self._tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            os.close(fd)
            target = self._tmp
        else:
            target = self.dst
        how = "at" if (mode == "append" and keep_existing) else "wt"
        if _is_gzip(path):
            return gzip.open(target, how, encoding="utf-8")
        return open(target, how, encoding="utf-8")

    def write(self, record: Record) -> None:
        self._stream.write(dumps(record) + "\n")
        self.count += 1
        if self.mode == "append" or self.dst == STDIO:
            self._stream.flush()

    def write_all(self, records: Iterable[Record]) -> int:
        for r in records:
            self.write(r)
        return self.count

    def close(self, ok: bool = True) -> None:
        if self.dst == STDIO:
            self._stream.flush()
            return
        self._stream.close()
        if self._tmp is not None:
            if ok:
                os.replace(self._tmp, self.dst)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._tmp)
            self._tmp = None

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(ok=exc_type is None)


def write_jsonl(dst: str | os.PathLike, records: Iterable[Record]) -> int:
    """Write all records atomically; returns how many."""
    with JsonlWriter(dst) as w:
        return w.write_all(records)


@dataclass
class ResumeState:
    """What an earlier, interrupted run already wrote: the keys to skip."""

    done: set[Hashable]
    kept: int
    repaired: bool


def open_output(
    dst: str | os.PathLike | None,
    *,
    resume: bool = False,
    key: KeyFn | None = None,
    mode: str = "append",
) -> tuple[JsonlWriter, ResumeState]:
    """Open a subcommand's output, honouring ``--resume``.

    With ``resume`` and an existing file, the complete records already there are kept (a damaged
    last line from a crash is dropped by rewriting the file), their keys are returned for the caller
    to skip, and new records are appended. Without ``resume`` the output starts empty.
    """
    dst = STDIO if dst is None else str(dst)
    state = ResumeState(done=set(), kept=0, repaired=False)
    if resume and dst == STDIO:
        raise DataError(dst, None, "--resume needs an output file (-o PATH), not stdout")
    if resume and Path(dst).exists():
        if key is None:
            raise ValueError("resume needs a key function")
        records, damaged = read_complete_prefix(dst)
        if damaged:
            write_jsonl(dst, records)
        for i, r in enumerate(records, start=1):
            try:
                state.done.add(key(r))
            except (KeyError, TypeError) as e:
                raise DataError(dst, i, f"cannot resume: record has no key ({e})") from None
        state.kept, state.repaired = len(records), damaged
        return JsonlWriter(dst, mode="append", keep_existing=True), state
    return JsonlWriter(dst, mode=mode if dst != STDIO else "append"), state


def key_id_sample(record: Record) -> Hashable:
    """Resume key of draw-level outputs (rollout, reward): (id, draw index)."""
    return (record["id"], record.get("sample", 0))
