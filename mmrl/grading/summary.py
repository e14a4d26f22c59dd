"""Per-source summary of a grading run: a table on stderr and a metrics dict."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

ALL = "(all)"


def summarize(kept: Sequence[dict[str, Any]], dropped: Sequence[dict[str, Any]], ks: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Per source (and overall): prompts, kept, draws, accuracy, mean pass@k, reward, difficulty."""
    rows: dict[str, list[tuple[dict[str, Any], bool]]] = defaultdict(list)
    for records, is_kept in ((kept, True), (dropped, False)):
        for r in records:
            rows[str(r.get("source", "-"))].append((r, is_kept))
            rows[ALL].append((r, is_kept))
    out = {}
    for source in sorted(rows, key=lambda s: (s == ALL, s)):
        items = rows[source]
        recs = [r for r, _ in items]
        entry: dict[str, Any] = {
            "prompts": len(recs),
            "kept": sum(1 for _, k in items if k),
            "draws": sum(r["n"] for r in recs),
            "accuracy": sum(r["correct"] for r in recs) / max(1, sum(r["n"] for r in recs)),
            "mean_reward": sum(r["mean_reward"] for r in recs) / max(1, len(recs)),
            "difficulty": sum(r["difficulty"] for r in recs) / max(1, len(recs)),
            "solved_never": sum(1 for r in recs if r["correct"] == 0),
            "solved_always": sum(1 for r in recs if r["correct"] == r["n"]),
        }
        for k in ks:
            vals = [r["pass_at_k"][str(k)] for r in recs if str(k) in r["pass_at_k"]]
            entry[f"pass@{k}"] = sum(vals) / len(vals) if vals else None
        out[source] = entry
    return out


def print_summary(summary: dict[str, dict[str, Any]], ks: Sequence[int]) -> None:
    from rich import box
    from rich.table import Table

    from mmrl.console import console

    table = Table(title="grade by source", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("source", "prompts", "kept", "draws", "acc", *[f"pass@{k}" for k in ks], "reward", "diff",
                 "never", "always"):
        table.add_column(name, justify="left" if name == "source" else "right", no_wrap=True)
    for source, e in summary.items():
        passk = [("-" if e[f"pass@{k}"] is None else f"{e[f'pass@{k}']:.3f}") for k in ks]
        table.add_row(source, str(e["prompts"]), str(e["kept"]), str(e["draws"]), f"{e['accuracy']:.3f}", *passk,
                      f"{e['mean_reward']:.3f}", f"{e['difficulty']:.3f}", str(e["solved_never"]),
                      str(e["solved_always"]))
    if console.is_terminal:
        console.print(table)
    else:  # a file or a pipe gets the whole table, not one cut to 80 columns
        from rich.console import Console

        Console(file=console.file, width=160, color_system=None).print(table)
