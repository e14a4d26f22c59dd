"""Data as users keep it, built for tests: Parquet files and ``save_to_disk`` folders whose images
are embedded as bytes (the ``Image`` feature's ``{bytes, path}`` struct), as verl, EasyR1 and the
Hub's Parquet exports store them."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any


def png(color: str = "red", size: int = 56) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def image(color: str = "red") -> dict[str, Any]:
    """One image as the ``Image`` feature stores it in Parquet and Arrow."""
    return {"bytes": png(color), "path": f"{color}.png"}


def sample_rows(n: int = 3, **extra: Any) -> list[dict[str, Any]]:
    """Samples with one embedded image each, a reference answer and an SFT response."""
    colors = ("red", "green", "blue", "white", "black")
    return [{"id": f"s{i}", "question": "<image>How many squares?", "images": [image(colors[i % len(colors)])],
             "answer": str(i), "response": f"<think>count</think><answer>{i}</answer>", **extra}
            for i in range(n)]


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def save_dataset(path: Path, splits: dict[str, list[dict[str, Any]]] | list[dict[str, Any]],
                 image_column: str = "images") -> Path:
    """A ``DatasetDict`` (``splits`` by name) or a ``Dataset`` (a list of rows) saved with
    ``save_to_disk``, its image column cast to the ``Image`` feature (a list of them)."""
    import datasets

    def build(rows: list[dict[str, Any]]) -> datasets.Dataset:
        ds = datasets.Dataset.from_list(rows)
        if image_column in ds.column_names:
            value = rows[0][image_column]
            feature = [datasets.Image()] if isinstance(value, list) else datasets.Image()
            ds = ds.cast_column(image_column, feature)
        return ds

    if isinstance(splits, dict):
        datasets.DatasetDict({name: build(rows) for name, rows in splits.items()}).save_to_disk(str(path))
    else:
        build(splits).save_to_disk(str(path))
    return path


def verl_rows(n: int = 2) -> list[dict[str, Any]]:
    """Rows in verl's RL layout (EasyR1 and V-Triune read the same): a chat ``prompt``, the
    reference under ``reward_model.ground_truth``, ``data_source``, images as structs, no id."""
    return [{"data_source": "geo3k", "prompt": [{"role": "user", "content": "<image>What is x?"}],
             "images": [image("red")], "ability": "math",
             "reward_model": {"ground_truth": str(i + 1), "style": "rule"},
             "extra_info": {"index": i, "split": "train"}} for i in range(n)]
