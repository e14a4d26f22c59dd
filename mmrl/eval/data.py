"""Benchmark rows from the Hub or a local copy, turned into SPEC samples with image files.

Sources, by what ``--data`` names: nothing (the benchmark's Hub id), a Hub id, or a local copy,
read by the loader every command shares (``mmrl.io.sources``): a JSONL file, a JSON file (a list
of rows, or MathVista's ``{pid: row}``), a Parquet file, or a folder: a dataset saved with
``save_to_disk`` or a folder of Parquet files, split by file name as the Hub lays them out (a
folder with one split is read whatever its split is called). Images may be decoded PIL images,
``{"bytes", "path"}`` structs, paths relative to the data file, data URIs or URLs; bytes and PIL
images are written once to ``OUT/images/`` so every sample points at a file. The ``spec``
benchmark's rows are samples already: they are read by ``mmrl.io.samples`` exactly as every
command reads ``--data`` (public column names mapped, null Parquet columns dropped, ids given).
Every problem is reported as ``SOURCE:LINE: field: reason`` (``SOURCE:row N`` for Parquet and
datasets).
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmrl.errors import ROW, ConfigError, DataError
from mmrl.eval.benchmark import Benchmark, Row, RowError
from mmrl.io.embedded import IMAGES_DIR, ImageFiles, is_inline, path_ref
from mmrl.io.jsonl import Located
from mmrl.io.samples import open_samples
from mmrl.io.schema import check_record
from mmrl.rewards.spec import RECORD_CHECKS
from mmrl.io.sources import Source, open_source
from mmrl.io.strictjson import invalid_value

__all__ = ["IMAGES_DIR", "ImageStore", "iter_rows", "iter_samples"]


def _is_local(ref: str) -> bool:
    return os.path.exists(ref) or ref.startswith((".", "/", "~")) or ref.endswith(
        (".jsonl", ".json", ".parquet", ".gz"))


# Benchmarks whose rows are samples (docs/data-format.md): read as every command reads --data.
SAMPLE_BENCHMARKS = ("spec",)


def iter_rows(bench: Benchmark, data: str | None, split: str) -> tuple[Iterator[Located], Path | None, bool]:
    """Rows of the benchmark's split, from ``data`` (local path or Hub id) or the benchmark's Hub id,
    each with where it came from (file or Hub split, line or row) for error messages; with the
    folder relative image paths resolve against, and whether ``data:`` URIs among the images are
    bytes the source embedded (to be written as files)."""
    ref = data or bench.hub_id
    if not ref:
        raise ConfigError(f"benchmark {bench.name!r} has no Hub copy: give the data with --data PATH")
    if not _is_local(ref):
        return _hub_rows(ref, bench.hub_config if data in (None, bench.hub_id) else None, split), None, False
    if bench.name in SAMPLE_BENCHMARKS:
        samples = open_samples(ref, split, strict=False)
        return iter(samples), samples.source.base_dir, samples.columnar
    source = open_source(ref, split, strict=False)
    return _local_rows(source), source.base_dir, False


def _local_rows(source: Source) -> Iterator[Located]:
    for row in source.rows():
        if isinstance(row, DataError):
            raise row
        yield row


def _hub_rows(hub_id: str, config: str | None, split: str) -> Iterator[Located]:
    import datasets

    try:
        ds = datasets.load_dataset(hub_id, config, split=split)
    except Exception as e:  # noqa: BLE001 - offline, missing split, auth: all end the run the same way
        raise ConfigError(f"cannot load {hub_id}{f' ({config})' if config else ''} split {split!r} from the Hub: "
                          f"{e}. Offline? Pass a local copy with --data PATH.") from None
    for i, row in enumerate(ds):
        yield Located(row, f"{hub_id}[{split}]", i, ROW)


class ImageStore:
    """Writes in-memory images under ``out_dir/images`` and returns references to them.

    A file is named by the sample id and a hash of its bytes, so re-running (``--resume``) finds
    it already there; references are relative to ``out_dir`` (where samples.jsonl lives).
    """

    def __init__(self, out_dir: Path, base_dir: Path | None, embedded_uris: bool = False):
        self.files, self.base_dir, self.embedded_uris = ImageFiles(out_dir), base_dir, embedded_uris

    def refs(self, value: Any, stem: str) -> list[str]:
        values = value if isinstance(value, (list, tuple)) else [value]
        return [self.ref(v, f"{stem}_{k}") for k, v in enumerate(values) if v is not None]

    def ref(self, value: Any, stem: str) -> str:
        if isinstance(value, str):
            return self._path_ref(value)
        if isinstance(value, dict):
            if value.get("bytes"):
                return self.files.write(value["bytes"], stem, Path(value.get("path") or "").suffix)
            if value.get("path"):
                return self._path_ref(value["path"])
            raise ValueError("image struct has neither bytes nor path")
        if hasattr(value, "save"):  # a PIL image, as ``datasets`` decodes it
            buf = io.BytesIO()
            img = value if value.mode in ("RGB", "RGBA", "L", "P") else value.convert("RGB")
            img.save(buf, format="PNG")
            return self.files.write(buf.getvalue(), stem, ".png")
        raise ValueError(f"unsupported image value of type {type(value).__name__}")

    def _path_ref(self, ref: str) -> str:
        if self.embedded_uris and ref.startswith("data:"):
            return self.files.from_uri(ref)
        if is_inline(ref):
            return ref
        path = Path(path_ref(ref, self.base_dir))
        if not path.is_file():
            raise ValueError(f"image file not found: {path}")
        return str(path.resolve())


def row_images(bench: Benchmark, row: Row) -> tuple[str | None, Any]:
    """The first image field of the benchmark that this row fills: (field, value)."""
    for name in bench.image_fields:
        if row.get(name) not in (None, [], ""):
            return name, row[name]
    return None, None


def iter_samples(bench: Benchmark, data: str | None, split: str, out_dir: Path,
                 limit: int | None = None) -> Iterator[dict[str, Any]]:
    """SPEC samples of a benchmark split (at most ``limit``), images materialised under ``out_dir``."""
    rows, base_dir, embedded = iter_rows(bench, data, split)
    store = ImageStore(out_dir, base_dir, embedded)
    seen: dict[str, str] = {}
    count = 0
    for index, src in enumerate(rows):
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
            raise src.error(f"duplicate id {sample['id']!r} (first on {seen[sample['id']]})", "id")
        seen[sample["id"]] = src.where
        count += 1
        yield sample


def _check_sample(src: Located, sample: dict[str, Any], out_dir: Path) -> None:
    """Refuse, naming the row, a sample that a later stage would refuse: not JSON (NaN from a
    Parquet column), not SPEC, an image that does not open, a verifier this build lacks."""
    bad = invalid_value(sample)
    if bad is not None:
        raise src.error(bad.reason, bad.field)
    problems = check_record(sample, out_dir, "sample", references="verify", checks=RECORD_CHECKS)
    if problems:
        raise src.error(problems[0].reason, problems[0].field)
