"""``mmrl eval compare``: summaries of several runs side by side, with per-category deltas.

Rows are the overall accuracy and every breakdown value found in any run; columns are the runs'
accuracies with the number of draws behind each, and, for each run after the first, its difference
to the first in points. Runs that differ in what they measured (benchmark, data, split, item
count, decoding, prompt) are still compared, with a warning naming each difference.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.table import Table

from mmrl.errors import DataError
from mmrl.eval.summary import pct
from mmrl.io.strictjson import read_json_file

SUMMARY_FILE = "summary.json"


def load_summary(run: str | Path) -> dict[str, Any]:
    """A run's summary from its folder (``DIR/summary.json``) or the file itself."""
    path = Path(run)
    if path.is_dir():
        path = path / SUMMARY_FILE
    if not path.is_file():
        raise DataError(str(path), None, "no such summary (expected an eval output folder or its summary.json)")
    data = read_json_file(path)
    if not isinstance(data, dict):
        raise DataError(str(path), None, "not an eval summary: expected a JSON object")
    for field in ("benchmark", "accuracy", "breakdowns"):
        if field not in data:
            raise DataError(str(path), None, "not an eval summary: required field is missing", field)
    return data


def comparison_rows(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (group, value): each run's accuracy and total, and deltas against the first run."""
    keys: list[tuple[str, str]] = [("overall", "")]
    for s in summaries:
        for group, cells in s["breakdowns"].items():
            for value in cells:
                if (group, value) not in keys:
                    keys.append((group, value))
    rows = []
    for group, value in keys:
        cells = []
        for s in summaries:
            if group == "overall":
                cells.append({"accuracy": s["accuracy"], "total": s.get("draws")})
            else:
                cell = s["breakdowns"].get(group, {}).get(value)
                cells.append({"accuracy": cell["accuracy"], "total": cell["total"]} if cell else None)
        base = cells[0]["accuracy"] if cells[0] else None
        deltas = [None if (c is None or base is None or c["accuracy"] is None) else c["accuracy"] - base
                  for c in cells[1:]]
        rows.append({"group": group, "value": value, "runs": cells, "deltas": deltas})
    return rows


# what must agree for two accuracies to measure the same thing
COMPARABLE = (("benchmark", "benchmark"), ("data", "data file"), ("split", "split"), ("limit", "item limit"),
              ("n", "number of items"), ("sampling", "decoding settings"), ("prompt", "prompt settings"))


def comparability_warnings(labels: list[str], summaries: list[dict[str, Any]]) -> list[str]:
    """One sentence per setting in which a run differs from the first (the baseline)."""
    out = []
    base = summaries[0]
    for key, what in COMPARABLE:
        for label, s in zip(labels[1:], summaries[1:]):
            if key in base or key in s:
                if base.get(key) != s.get(key):
                    out.append(f"{label} differs from {labels[0]} in its {what}: "
                               f"{_show(s.get(key))} vs {_show(base.get(key))}")
    return out


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else str(value)


def run_label(summary: dict[str, Any], path: str) -> str:
    return Path(path).name or summary.get("model") or path


def comparison_table(labels: list[str], summaries: list[dict[str, Any]], rows: list[dict[str, Any]]) -> Table:
    benches = sorted({s["benchmark"] for s in summaries})
    table = Table(title=f"compare · {', '.join(benches)}")
    table.add_column("group")
    table.add_column("value")
    for label in labels:
        table.add_column(f"{label} acc % (n)", justify="right")
    for label in labels[1:]:
        table.add_column(f"Δ {label}", justify="right")
    previous = None
    for row in rows:
        accs = [f"{pct(c['accuracy'])} ({c['total']})" if c and c.get("total") is not None
                else pct(c["accuracy"]) if c else "-" for c in row["runs"]]
        deltas = ["-" if d is None else f"[{'green' if d > 0 else 'red' if d < 0 else 'default'}]{100 * d:+.1f}[/]"
                  for d in row["deltas"]]
        group = row["group"] if row["group"] != previous else ""
        previous = row["group"]
        table.add_row(group, row["value"], *accs, *deltas)
    return table
