"""The end of a recipe run: accuracy before and after per source (from the eval stage) and the
training curves (``mmrl plot``'s core), written to ``OUT/report.json`` and ``OUT/curves.png``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REPORT_FILE = "report.json"
CURVES_FILE = "curves.png"
ALL = "all"


def _summary(folder: Path) -> dict[str, Any] | None:
    path = folder / "summary.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def before_after(eval_folder: Path) -> list[dict[str, Any]]:
    """One row per source (then ``all``): accuracy before and after, and the change."""
    before, after = _summary(eval_folder / "before"), _summary(eval_folder / "after")
    if before is None or after is None:
        return []
    sources = sorted(set(_by_source(before)) | set(_by_source(after)))
    rows = []
    for name in [*sources, ALL]:
        b = before.get("accuracy") if name == ALL else _by_source(before).get(name, {}).get("accuracy")
        a = after.get("accuracy") if name == ALL else _by_source(after).get(name, {}).get("accuracy")
        n = after.get("n") if name == ALL else _by_source(after).get(name, {}).get("total")
        rows.append({"source": name, "n": n, "before": b, "after": a,
                     "change": None if a is None or b is None else a - b})
    return rows


def _by_source(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return (summary.get("breakdowns") or {}).get("source") or {}


def _pct(value: float | None, sign: bool = False) -> str:
    return "-" if value is None else f"{100 * value:{'+' if sign else ''}.1f}%"


def report_table(rows: list[dict[str, Any]], title: str):
    from rich.table import Table

    table = Table(title=title)
    for col in ("source", "n", "before", "after", "change"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for r in rows:
        table.add_row(r["source"], str(r["n"] if r["n"] is not None else "-"), _pct(r["before"]), _pct(r["after"]),
                      _pct(r["change"], sign=True))
    return table


def write_report(out: Path, metrics: list[str], title: str) -> dict[str, Any]:
    """Print the before/after table, draw the curves of ``metrics``; both also saved in ``out``."""
    from mmrl.console import console
    from mmrl.io.metrics import write_json

    rows = before_after(out / "eval")
    report: dict[str, Any] = {"rows": rows, "curves": None}
    if rows:
        console.print(report_table(rows, title))
    with_steps = [m for m in metrics if Path(m).is_file() and Path(m).stat().st_size]
    if with_steps:
        from mmrl.plotting.curves import plot_runs

        labels = [Path(m).parent.name for m in with_steps]
        report["curves"] = str(plot_runs(with_steps, out / CURVES_FILE, labels=labels, title=title))
        console.print(f"curves: {report['curves']}", highlight=False)
    write_json(out / REPORT_FILE, report)
    return report
