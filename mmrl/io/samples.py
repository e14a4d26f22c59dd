"""The one reader of samples: every command's ``--data``, from wherever users keep it.

``open_samples(DATA, split=, columns=, image_root=)`` reads any source ``mmrl.io.sources`` knows
(JSONL, ``-``, JSON, Parquet files and folders, ``save_to_disk`` folders), maps public layouts
onto the sample fields (``mmrl.io.columns``) and gives every image as a string reference
(``mmrl.io.embedded``), each record located at its ``PATH:LINE`` or ``PATH:row N``:

- ``iter(samples)``: the records, streamed (a DataError for a row that cannot be a record);
- ``samples.scan(kind, references)``: each record with every problem it has (``Checked``),
  streamed, ids remembered to refuse duplicates: what ``mmrl data validate`` lists;
- ``samples.check(...)``: the first problem raised, else the number of records: what a command
  runs before any model loads, in memory bounded by the ids, then reads the records again to work;
- ``samples.read_all(...)``: checked and kept, for commands that need them all (SFT, grpo).

A row of a Parquet file or dataset becomes a record like this: its null columns are dropped (a
column has a slot in every row; null there means absent), its columns mapped, its ``images``
made references (bytes as ``data:`` URIs, paths absolute), an ``id`` given when it has none
(``NAME-ROW``: the file's or split's name and the row), and its values checked to be JSON.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.errors import DataError, FieldError
from mmrl.io.columns import map_columns
from mmrl.io.embedded import image_refs
from mmrl.io.jsonl import STDIO, Located
from mmrl.io.schema import RecordCheck, RecordChecker, base_dir_of, rebase_images
from mmrl.io.sources import Source, open_source
from mmrl.io.strictjson import invalid_value


@dataclass
class Checked:
    """One row read: its record (None when the row could not become one) and its problems."""

    item: Located | None
    problems: list[DataError] = field(default_factory=list)


class Samples:
    """The samples of one ``--data`` source; iterate it as often as needed (stdin included)."""

    def __init__(self, data: str | os.PathLike, split: str | None = None, columns: Mapping[str, str] | None = None,
                 image_root: str | os.PathLike | None = None, strict: bool = True, checks: Sequence[RecordCheck] = ()):
        self.data = str(data)
        self.checks = tuple(checks)  # record checks from above (the reward spec's), run with the references
        self.source: Source = open_source(self.data, split, strict)
        self.columns = dict(columns or {})
        self._stdin_root = base_dir_of(STDIO, image_root) if self.data == STDIO and image_root is not None else None

    @property
    def columnar(self) -> bool:
        """Whether records come from Parquet or a dataset (their images may be data URIs)."""
        return self.source.columnar

    @property
    def base_dir(self) -> Path | None:
        """The folder relative image paths of the records resolve against (stdin: the current
        folder, where ``image_root``'s paths were rebased to; Parquet and datasets give absolute
        paths)."""
        return self.source.base_dir if self.data != STDIO else Path.cwd()

    def count(self) -> int | None:
        """Records, when the source says so without being read; else None."""
        return self.source.count()

    def __iter__(self) -> Iterator[Located]:
        for item in self._records():
            if isinstance(item, DataError):
                raise item
            yield item

    def scan(self, kind: str | None = "sample", references: str | None = "verify",
             unique_ids: bool = True) -> Iterator[Checked]:
        """Every row with its problems (as ``kind``, with what it refers to checked as
        ``references`` says: ``verify``, ``decode`` or None); rows that cannot be read or mapped
        come with their one problem and no record."""
        check = RecordChecker(self.base_dir, kind, unique_ids, references, self.checks)
        for item in self._records():
            if isinstance(item, DataError):
                yield Checked(None, [item])
            else:
                yield Checked(item, check(item))

    def check(self, kind: str = "sample", references: str | None = "verify", progress: str | None = None) -> int:
        """Raise the first problem of any record; return how many records there are."""
        count = 0
        for checked in self._tracked(self.scan(kind, references), progress):
            if checked.problems:
                raise checked.problems[0]
            count += 1
        return count

    def read_all(self, kind: str = "sample", references: str | None = "verify",
                 progress: str | None = None) -> list[Located]:
        """Every record, checked (the first problem raised), in a list."""
        items = []
        for checked in self._tracked(self.scan(kind, references), progress):
            if checked.problems:
                raise checked.problems[0]
            items.append(checked.item)
        return items

    def _tracked(self, scan: Iterator[Checked], progress: str | None) -> Iterator[Checked]:
        if not progress:
            return scan
        from mmrl.console import track

        return track(scan, progress, total=self.count())

    def _records(self) -> Iterator[Located | DataError]:
        for row in self.source.rows():
            if isinstance(row, DataError):
                yield row
                continue
            try:
                record = self.to_sample(row)
            except FieldError as e:
                yield row.error(e.reason, e.field)
                continue
            yield Located(record, row.path, row.line, row.unit)

    def to_sample(self, row: Located) -> dict[str, Any]:
        """One row as a sample record (see the module docstring); a FieldError when it cannot be."""
        record = row.record
        if self.columnar:
            record = {k: v for k, v in record.items() if v is not None}
        record = map_columns(record, self.columns)
        if self.columnar:
            if "images" in record:
                record["images"] = image_refs(record["images"], self.source.base_dir)
            if "id" not in record:
                record["id"] = f"{_stem(row.path)}-{row.line}"
            bad = invalid_value(record)
            if bad is not None:
                raise FieldError(bad.field or "record", bad.reason)
        elif self._stdin_root is not None:
            record = rebase_images(record, self._stdin_root, Path.cwd())
        return record


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (".parquet", ".arrow"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def open_samples(data: str | os.PathLike, split: str | None = None, columns: Mapping[str, str] | None = None,
                 image_root: str | os.PathLike | None = None, strict: bool = True,
                 checks: Sequence[RecordCheck] = ()) -> Samples:
    """The samples of ``data`` (see the module docstring); a DataError or ConfigError (exit 2) when
    the source does not exist or its split is not clear (``strict``: as ``open_source``).
    ``checks`` run on each record besides the I/O layer's own (the reward spec's, from above)."""
    return Samples(data, split, columns, image_root, strict, checks)


def validate_source(data: str | os.PathLike, kind: str | None = None, references: str | None = "decode",
                    split: str | None = None, columns: Mapping[str, str] | None = None,
                    checks: Sequence[RecordCheck] = ()) -> tuple[int, list[DataError]]:
    """Every problem of a source, streamed (records read, problems): ``mmrl data validate``."""
    count, errors = 0, []
    for checked in open_samples(data, split, columns, checks=checks).scan(kind, references):
        count += checked.item is not None
        errors.extend(checked.problems)
    return count, errors
