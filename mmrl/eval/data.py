"""Benchmark rows from the Hub or a local copy, turned into SPEC samples with image files.

Sources, by what ``--data`` names: nothing (the benchmark's Hub id), a Hub id, a JSONL file, a
JSON file (a list of rows, or MathVista's ``{pid: row}``), a Parquet file, or a folder: a dataset
saved with ``save_to_disk`` or a folder of Parquet files (``*{split}*.parquet`` preferred, as the
Hub lays them out). Images may be decoded PIL images, ``{"bytes", "path"}`` structs, paths
relative to the data file, data URIs or URLs; bytes and PIL images are written once to
``OUT/images/`` so every sample points at a file. Every problem is reported as
``SOURCE:ROW: field: reason``.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError, DataError
from mmrl.eval.benchmark import Benchmark, Row, RowError
from mmrl.io.jsonl import Located, iter_located
from mmrl.io.schema import check_record
from mmrl.io.strictjson import invalid_value, read_json_file

IMAGES_DIR = "images"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _is_local(ref: str) -> bool:
    return os.path.exists(ref) or ref.startswith((".", "/", "~")) or ref.endswith(
        (".jsonl", ".json", ".parquet", ".gz"))


def iter_rows(bench: Benchmark, data: str | None, split: str) -> Iterator[Located]:
    """Rows of the benchmark's split, from ``data`` (local path or Hub id) or the benchmark's Hub id,
    each with where it came from (file or Hub split, 1-based line or row) for error messages."""
    ref = data or bench.hub_id
    if not ref:
        raise ConfigError(f"benchmark {bench.name!r} has no Hub copy: give the data with --data PATH")
    if _is_local(ref):
        path = Path(ref).expanduser()
        if not path.exists():
            raise DataError(str(path), None, "no such file or folder")
        yield from _local_rows(path, split)
    else:
        yield from _hub_rows(ref, bench.hub_config if data in (None, bench.hub_id) else None, split)


def _local_rows(path: Path, split: str) -> Iterator[Located]:
    name = str(path)
    if path.is_dir():
        if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
            yield from _saved_rows(path, split)
            return
        files = sorted(path.rglob("*.parquet"))
        if not files:
            raise DataError(name, None, "folder holds neither a saved dataset nor Parquet files")
        chosen = [f for f in files if split in f.name] or files
        for f in chosen:
            yield from _parquet_rows(f)
        return
    suffixes = "".join(path.suffixes[-2:])
    if name.endswith(".parquet"):
        yield from _parquet_rows(path)
    elif name.endswith(".json"):
        yield from _json_rows(path)
    elif name.endswith((".jsonl", ".jsonl.gz")) or suffixes.endswith(".gz"):
        yield from iter_located(path)
    else:
        raise DataError(name, None, "unknown data format; expected .jsonl, .json, .parquet or a dataset folder")


def _json_rows(path: Path) -> Iterator[Located]:
    data = read_json_file(path)
    rows = list(data.values()) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise DataError(str(path), None, "expected a list of rows or an object of rows by id")
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(str(path), i, f"row {i} is {type(row).__name__}, expected an object")
        yield Located(row, str(path), i)


def _parquet_rows(path: Path) -> Iterator[Located]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as e:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise DataError(str(path), None, f"cannot read Parquet: {e}") from None
    for i, row in enumerate(table.to_pylist(), start=1):
        yield Located(row, str(path), i)


def _saved_rows(path: Path, split: str) -> Iterator[Located]:
    import datasets

    ds = datasets.load_from_disk(str(path))
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds:
            raise ConfigError(f"{path}: no split {split!r}; it has {', '.join(ds)}")
        ds = ds[split]
    for i, row in enumerate(ds, start=1):
        yield Located(row, f"{path}[{split}]", i)


def _hub_rows(hub_id: str, config: str | None, split: str) -> Iterator[Located]:
    import datasets

    try:
        ds = datasets.load_dataset(hub_id, config, split=split)
    except Exception as e:  # noqa: BLE001 - offline, missing split, auth: all end the run the same way
        raise ConfigError(f"cannot load {hub_id}{f' ({config})' if config else ''} split {split!r} from the Hub: "
                          f"{e}. Offline? Pass a local copy with --data PATH.") from None
    for i, row in enumerate(ds, start=1):
        yield Located(row, f"{hub_id}[{split}]", i)


class ImageStore:
    """Writes in-memory images under ``out_dir/images`` and returns references to them.

    A file is named by the sample id and a hash of its bytes, so re-running (``--resume``) finds
    it already there; references are relative to ``out_dir`` (where samples.jsonl lives).
    """

    def __init__(self, out_dir: Path, base_dir: Path | None):
        self.out_dir, self.base_dir = out_dir, base_dir

    def refs(self, value: Any, stem: str) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else [value]
        return [self.ref(v, f"{stem}_{k}") for k, v in enumerate(values) if v is not None]

    def ref(self, value: Any, stem: str) -> str:
        if isinstance(value, str):
            return self._path_ref(value)
        if isinstance(value, dict):
            if value.get("bytes"):
                return self._write(value["bytes"], stem, Path(value.get("path") or "").suffix)
            if value.get("path"):
                return self._path_ref(value["path"])
            raise ValueError("image struct has neither bytes nor path")
        if hasattr(value, "save"):  # a PIL image, as ``datasets`` decodes it
            buf = io.BytesIO()
            img = value if value.mode in ("RGB", "RGBA", "L", "P") else value.convert("RGB")
            img.save(buf, format="PNG")
            return self._write(buf.getvalue(), stem, ".png")
        raise ValueError(f"unsupported image value of type {type(value).__name__}")

    def _path_ref(self, ref: str) -> str:
        if ref.startswith(("data:", "http://", "https://")):
            return ref
        path = Path(ref)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        if not path.is_file():
            raise ValueError(f"image file not found: {path}")
        return str(path.resolve())

    def _write(self, data: bytes, stem: str, suffix: str) -> str:
        digest = hashlib.sha1(data).hexdigest()[:10]
        name = f"{_SAFE.sub('_', stem)}_{digest}{suffix or '.png'}"
        target = self.out_dir / IMAGES_DIR / name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(target.suffix + ".tmp")
            tmp.write_bytes(data)
            os.replace(tmp, target)
        return f"{IMAGES_DIR}/{name}"


def row_images(bench: Benchmark, row: Row) -> tuple[str | None, Any]:
    """The first image field of the benchmark that this row fills: (field, value)."""
    for name in bench.image_fields:
        if row.get(name) not in (None, [], ""):
            return name, row[name]
    return None, None


def iter_samples(bench: Benchmark, data: str | None, split: str, out_dir: Path,
                 limit: int | None = None) -> Iterator[dict[str, Any]]:
    """SPEC samples of a benchmark split (at most ``limit``), images materialised under ``out_dir``."""
    base_dir = None
    if data and _is_local(data):
        p = Path(data).expanduser().resolve()
        base_dir = p if p.is_dir() else p.parent
    store = ImageStore(out_dir, base_dir)
    seen: dict[str, int] = {}
    count = 0
    for index, src in enumerate(iter_rows(bench, data, split)):
        if limit is not None and count >= limit:
            return
        for name in bench.required:
            if src.record.get(name) is None:
                raise src.error("required field is missing", name)
        field, value = row_images(bench, src.record)
        try:
            images = store.refs(value, f"{split}-{index}") if field else []
        except ValueError as e:
            raise src.error(str(e), field) from None
        try:
            sample = bench.to_sample(src.record, images, index, split)
        except RowError as e:
            raise src.error(e.reason, e.field) from None
        _check_sample(src, sample, out_dir)
        if sample["id"] in seen:
            raise src.error(f"duplicate id {sample['id']!r} (first on row {seen[sample['id']]})", "id")
        seen[sample["id"]] = src.line
        count += 1
        yield sample


def _check_sample(src: Located, sample: dict[str, Any], out_dir: Path) -> None:
    """Refuse, naming the row, a sample that a later stage would refuse: not JSON (NaN from a
    Parquet column), not SPEC, an image that does not open, a verifier this build lacks."""
    bad = invalid_value(sample)
    if bad is not None:
        raise src.error(bad.reason, bad.field)
    problems = check_record(sample, out_dir, "sample", references="verify")
    if problems:
        raise src.error(problems[0].reason, problems[0].field)
