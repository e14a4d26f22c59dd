"""JSON documents that runs write: run metrics of the commands that are not training loops (rollout, reward, grade).

Each run writes one JSON object: to ``--metrics PATH`` when given, else ``OUT.metrics.json``
beside a file output (a run writing to stdout has no natural place, so it writes none unless
asked). Training loops write SPEC section 5 step lines instead (``mmrl.train.metrics_log``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mmrl.io.atomic import write_bytes_atomic
from mmrl.io.jsonl import STDIO


def metrics_path_for(out: str | None, given: str | None = None) -> str | None:
    """Where a run's metrics go: the given path, else ``OUT.metrics.json`` beside a file output."""
    if given:
        return given
    if not out or out == STDIO:
        return None
    return str(Path(out).with_suffix("")) + ".metrics.json"


def metrics_output(out: str | None, given: str | None = None) -> dict[str, str | None]:
    """The metrics file as an output for ``check_outputs``, labelled by where its path came from."""
    return {"--metrics" if given else "--metrics (default: beside -o)": metrics_path_for(out, given)}


def write_json(path: str | os.PathLike, payload: Any) -> None:
    """Write one JSON document (indented, UTF-8) atomically: a temporary file renamed over it."""
    write_bytes_atomic(path, (json.dumps(payload, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def write_metrics(path: str | os.PathLike | None, payload: dict[str, Any]) -> None:
    """Write a run's metrics (no-op without a path)."""
    if path:
        write_json(path, payload)
