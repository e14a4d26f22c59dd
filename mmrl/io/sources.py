"""Where rows are kept, read one at a time: JSONL, JSON, Parquet, Hugging Face dataset folders.

``open_source(PATH, split)`` reads what ``--data`` names:

- a JSONL file (``.jsonl``, ``.jsonl.gz`` or any other name) or ``-`` for stdin: records with
  their 1-based line (stdin is copied to a temporary file as it is read, so that a command may
  read it twice: once to check every record, once to work);
- a JSON file (``.json``): a list of rows, or an object of rows by key (MathVista's layout); rows
  are numbered from 1 and written like lines (``PATH:N``);
- a Parquet file, or a folder of Parquet files whose splits are found the way
  ``datasets.load_dataset(FOLDER)`` finds them (``data/train-00000-of-00002.parquet``,
  ``test.parquet``, ``validation/part-0.parquet``; a folder without split names is one split);
- a folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``.

Parquet and dataset rows are streamed in record batches (a million-row file is never held in
memory) and located by their 0-based index, so messages read ``PATH:row N``. Values are as stored:
an ``Image`` column gives ``{"bytes", "path"}`` structs, nothing is decoded here. ``split`` picks
one split of a folder that has several; ``strict=False`` (eval, which always names the split
its benchmark wants) reads a folder's only split whatever it is called and ignores ``split``
for single files.
"""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mmrl.errors import ROW, ConfigError, DataError
from mmrl.io.jsonl import STDIO, Located, open_bytes, display_name, iter_parsed
from mmrl.io.strictjson import invalid_value, read_json_file

JSONL, JSON, PARQUET, DATASET = "jsonl", "json", "parquet", "dataset"
COLUMNAR = (PARQUET, DATASET)
BATCH_ROWS = 256  # rows decoded from Arrow at a time: bounds memory with images of any size
_DICT_FILE, _STATE_FILE = "dataset_dict.json", "state.json"


@dataclass
class Source:
    """One source of rows: its format, the files read in order, and where relative image paths
    of its rows resolve (the JSONL/JSON/Parquet file's folder, the folder given for a folder)."""

    name: str
    kind: str
    files: list[Path]
    base_dir: Path | None
    split: str | None = None
    _spool: Path | None = field(default=None, repr=False)

    @property
    def columnar(self) -> bool:
        """Parquet or a dataset: rows in typed columns, where a null is a missing value and images
        may be stored as bytes."""
        return self.kind in COLUMNAR

    def rows(self) -> Iterator[Located | DataError]:
        """Every row in order, as a Located record or as the DataError that it is (an unparseable
        JSONL line; reading goes on past it so that validation can list every problem)."""
        if self.kind == JSONL:
            yield from self._jsonl_rows()
        elif self.kind == JSON:
            yield from _json_rows(self.files[0])
        else:
            read = _parquet_batches if self.kind == PARQUET else _arrow_batches
            for f in self.files:
                yield from _columnar_rows(f, self._label(f), read)

    def count(self) -> int | None:
        """Rows, when the files say so without being read (Parquet metadata); else None."""
        if self.kind != PARQUET:
            return None
        import pyarrow.parquet as pq

        total = 0
        for f in self.files:
            try:
                total += pq.ParquetFile(f).metadata.num_rows
            except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
                raise DataError(str(f), None, f"cannot read: {e}") from None
        return total

    def _label(self, f: Path) -> str:
        """How a file of this source is named in messages: the Parquet file itself; for a saved
        dataset its folder, and its Arrow file when there are several."""
        if self.kind == PARQUET:
            return str(f)
        return str(f) if len(self.files) > 1 else str(f.parent)

    def _jsonl_rows(self) -> Iterator[Located | DataError]:
        if self.name != STDIO:
            yield from iter_parsed(self.files[0])
            return
        if self._spool is None:
            self._spool = _spool_stdin()
        yield from iter_parsed(self._spool, name=display_name(STDIO))


def open_source(data: str | os.PathLike, split: str | None = None, strict: bool = True) -> Source:
    """The source ``data`` names (see the module docstring), with its split chosen; a DataError or
    ConfigError (exit 2) when it does not exist, has no such split, or needs ``--split``."""
    name = str(data)
    if name == STDIO:
        _no_split(name, split, strict)
        return Source(name, JSONL, [], None)
    path = Path(name).expanduser()
    if not path.exists():
        raise DataError(name, None, "no such file or folder")
    if path.is_dir():
        return _folder_source(path, split, strict)
    _no_split(name, split, strict)
    base = path.resolve().parent
    if path.name.endswith(".parquet"):
        return Source(name, PARQUET, [path], base)
    if path.name.endswith(".json"):
        return Source(name, JSON, [path], base)
    return Source(name, JSONL, [path], base)


def _no_split(name: str, split: str | None, strict: bool) -> None:
    if split is not None and strict:
        raise ConfigError(f"{display_name(name)}: --split {split} applies to a folder with splits (a dataset saved "
                          "with save_to_disk, a folder of Parquet files); this is one file: drop --split")


def _folder_source(path: Path, split: str | None, strict: bool) -> Source:
    name, base = str(path), path.resolve()
    if (path / _DICT_FILE).is_file():
        splits = _dict_splits(path)
        chosen = choose_split(name, {s: s for s in splits}, split, strict)
        return Source(str(path / chosen), DATASET, _arrow_files(path / chosen), base, chosen)
    if (path / _STATE_FILE).is_file():
        recorded = _read_state(path).get("_split")
        if split is not None and strict and split != recorded:
            has = f"split {recorded!r}" if recorded else "no split name"
            raise ConfigError(f"{name}: no split {split!r}; this is one saved dataset ({has}): drop --split")
        return Source(name, DATASET, _arrow_files(path), base, recorded)
    by_split = _parquet_splits(path)
    if not by_split:
        raise DataError(name, None, "folder holds neither a saved dataset (save_to_disk) nor Parquet files")
    chosen = choose_split(name, by_split, split, strict)
    return Source(name, PARQUET, by_split[chosen], base, chosen)


def choose_split(name: str, available: dict, split: str | None, strict: bool = True) -> str:
    """The split to read of those ``available``: the one asked for; the only one when none is asked
    for (or, not ``strict``, when the one asked for is absent); else a ConfigError naming them."""
    names = ", ".join(sorted(available))
    if split is None:
        if len(available) == 1:
            return next(iter(available))
        raise ConfigError(f"{name}: holds splits {names}; choose one with --split (it applies to --data), or give "
                          f"the split's own {_split_paths(name, available)} (how --eval-data takes one split)")
    if split in available:
        return split
    if not strict and len(available) == 1:
        return next(iter(available))
    raise ConfigError(f"{name}: no split {split!r}; it has {names}")


def _split_paths(name: str, available: dict) -> str:
    """Where each split can be named on its own: a saved split's folder, a split's one Parquet file."""
    paths = []
    for split, where in sorted(available.items()):
        if isinstance(where, list):
            where = where[0] if len(where) == 1 else None
        else:
            where = Path(name) / str(where)
        if where is not None:
            paths.append(str(where))
    return ("folder or file: " + ", ".join(paths)) if paths else "folder or file"


def _parquet_splits(folder: Path) -> dict[str, list[Path]]:
    """The Parquet files of a folder by split, as ``datasets.load_dataset(FOLDER)`` groups them."""
    if not any(folder.rglob("*.parquet")):
        return {}
    from datasets.data_files import DataFilesDict, get_data_patterns

    patterns = get_data_patterns(str(folder))
    files = DataFilesDict.from_patterns(patterns, base_path=str(folder), allowed_extensions=[".parquet"])
    return {str(s): sorted(Path(f) for f in fs) for s, fs in files.items() if fs}


def _within(folder: Path, name: object, where: Path, field: str) -> Path:
    """``folder / name`` for a name a saved dataset's JSON gives (a split, a shard), refused unless
    it is a plain relative name that stays inside ``folder``: the JSON is data, and data may not
    make mmrl open ``../../etc/passwd``."""
    if not isinstance(name, str) or not name:
        raise DataError(str(where), None, f"must be a file or folder name, got {name!r}", field)
    target = folder / name
    if os.path.isabs(name) or not _inside(target, folder):
        raise DataError(str(where), None, f"{name!r} lies outside the dataset folder {folder}; a saved dataset "
                                          "names only its own files", field)
    return target


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _dict_splits(path: Path) -> list[str]:
    """The split names of a ``DatasetDict.save_to_disk`` folder, each one a folder inside it."""
    where = path / _DICT_FILE
    data = read_json_file(where)
    splits = data.get("splits") if isinstance(data, dict) else None
    if not isinstance(splits, list) or not splits:
        raise DataError(str(where), None, 'expected an object {"splits": ["train", ...]} as '
                                          "DatasetDict.save_to_disk writes")
    for i, split in enumerate(splits):
        _within(path, split, where, f"splits[{i}]")
    return splits


def _read_state(folder: Path) -> dict:
    where = folder / _STATE_FILE
    state = read_json_file(where)
    if not isinstance(state, dict):
        raise DataError(str(where), None, f"expected an object as Dataset.save_to_disk writes, got "
                                          f"{type(state).__name__}")
    return state


def _arrow_files(folder: Path) -> list[Path]:
    """The shards a saved dataset's ``state.json`` lists, each checked to lie inside ``folder``."""
    where = folder / _STATE_FILE
    entries = _read_state(folder).get("_data_files")
    if not isinstance(entries, list) or not entries:
        raise DataError(str(where), None, 'must list the shards: [{"filename": "data-00000-of-00001.arrow"}, ...]',
                        "_data_files")
    files = []
    for i, entry in enumerate(entries):
        field = f"_data_files[{i}].filename"
        if not isinstance(entry, dict) or "filename" not in entry:
            raise DataError(str(where), None, "required field is missing (each shard is {\"filename\": NAME})", field)
        files.append(_within(folder, entry["filename"], where, field))
    for f in files:
        if not f.is_file():
            raise DataError(str(folder), None, f"saved dataset is incomplete: {f.name} is missing")
    return files


def _json_rows(path: Path) -> Iterator[Located | DataError]:
    """The rows of a JSON file, numbered from 1; a value that is not JSON text (NaN, a lone
    surrogate) is that row's problem, located ``PATH:N: field``."""
    data = read_json_file(path, check=False)
    rows = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DataError(str(path), None, "expected a list of rows or an object of rows by id")
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(str(path), i, f"row {i} is {type(row).__name__}, expected an object")
        bad = invalid_value(row)
        if bad is not None:
            yield DataError(str(path), i, bad.reason, bad.field)
            continue
        yield Located(row, str(path), i)


def _parquet_batches(path: Path):
    """Record batches of a Parquet file, its pages read through a small buffer: pre-buffering
    (pyarrow's default) holds whole row groups, which HF writes 100 rows at a time but pandas
    and pyarrow up to a million."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20).iter_batches(batch_size=BATCH_ROWS)


def _arrow_batches(path: Path):
    """The record batches of an Arrow stream file as ``save_to_disk`` writes them, read one by one
    (not memory-mapped, so memory stays bounded by a batch)."""
    import pyarrow as pa

    return pa.ipc.open_stream(pa.OSFile(str(path)))


def _columnar_rows(path: Path, label: str, batches: Callable) -> Iterator[Located]:
    row = 0
    try:
        for batch in batches(path):
            for record in batch.to_pylist():
                yield Located(record, label, row, ROW)
                row += 1
    except (OSError, ValueError) as e:  # pyarrow's errors (ArrowInvalid, ArrowIOError) are these
        where = "cannot read" if row == 0 else f"unreadable after row {row - 1}"
        raise DataError(label, None, f"{where}: {e}") from None


def _spool_stdin() -> Path:
    """Copy stdin to a temporary file (removed when the process ends) and return its path."""
    fd, tmp = tempfile.mkstemp(prefix="mmrl-stdin-", suffix=".jsonl")
    atexit.register(_unlink, tmp)
    stream = open_bytes(STDIO)
    with os.fdopen(fd, "wb") as out:
        if hasattr(stream, "read"):
            shutil.copyfileobj(stream, out)
        else:
            for line in iter(stream.readline, b""):
                out.write(line)
    return Path(tmp)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
