"""The summary of an eval run: overall accuracy, the paper's breakdowns, pass@k, and a table.

Accuracy is the mean over scored draws (with one greedy draw per item, plain accuracy; with n
draws, the pass@1 estimate). A breakdown key whose value is a list (MathVista ``skills``) counts
the item under each of its values, as the official ``calculate_score.py`` does. Items whose split
hides the answers are counted as ``unscored`` and left out of every accuracy. pass@k is the
grading library's unbiased estimator, so ``mmrl grade`` and ``mmrl eval`` agree.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from rich.table import Table

from mmrl.eval.benchmark import Benchmark
from mmrl.grading.pass_at_k import pass_at_k


def ks_for(n: int) -> list[int]:
    """1, 2, 4, ... up to n, and n itself."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    return ks + [n]


def _cell(correct: int, total: int) -> dict[str, Any]:
    return {"accuracy": correct / total if total else None, "correct": correct, "total": total}


def _values(meta: dict[str, Any], key: str) -> list[str]:
    value = meta.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def summarize(bench: Benchmark, rows: Iterable[dict[str, Any]], **run: Any) -> dict[str, Any]:
    """Aggregate audit rows into the summary dict (``run`` adds model, split, judge, sampling...)."""
    draws_by_id: dict[str, list[bool]] = defaultdict(list)
    cells: dict[str, dict[str, list[int]]] = {k: defaultdict(lambda: [0, 0]) for k in bench.breakdowns}
    finish, rules = Counter(), Counter()
    tokens, draws, unscored_ids = 0, 0, set()
    for row in rows:
        draws += 1
        finish[row.get("finish_reason", "unknown")] += 1
        rules[row.get("rule", "unknown")] += 1
        tokens += int(row.get("num_tokens") or 0)
        if row.get("correct") is None:
            unscored_ids.add(row["id"])
            continue
        ok = bool(row["correct"])
        draws_by_id[row["id"]].append(ok)
        meta = row.get("meta") or {}
        for key in bench.breakdowns:
            for value in _values(meta, key):
                cells[key][value][0] += ok
                cells[key][value][1] += 1
    scored = sum(len(v) for v in draws_by_id.values())
    correct = sum(sum(v) for v in draws_by_id.values())
    summary: dict[str, Any] = {
        "benchmark": bench.name,
        **{k: v for k, v in run.items() if k not in ("judge",)},
        "n": len(draws_by_id),
        "draws": scored,
        "correct": correct,
        "accuracy": correct / scored if scored else None,
        "judge": run.get("judge"),
        "scorer": bench.scorer,
        "unscored": len(unscored_ids),
        "breakdowns": {key: {v: _cell(*cells[key][v]) for v in sorted(cells[key])} for key in bench.breakdowns},
        "finish_reasons": dict(sorted(finish.items())),
        "extraction_rules": dict(sorted(rules.items())),
        "mean_response_tokens": tokens / draws if draws else None,
    }
    per_item = {len(v) for v in draws_by_id.values()}
    if per_item and min(per_item) > 1:
        n = min(per_item)
        summary["pass_at_k"] = {
            str(k): sum(pass_at_k(len(v), sum(v), k) for v in draws_by_id.values()) / len(draws_by_id)
            for k in ks_for(n)
        }
    return summary


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def summary_table(summary: dict[str, Any]) -> Table:
    """A rich table: overall accuracy, then each breakdown's values (accuracy, correct/total)."""
    title = f"{summary['benchmark']} · {summary.get('split', '')} · {summary.get('model', '')}"
    judge = summary.get("judge")
    table = Table(title=title, caption=f"judge: {judge['model'] if judge else 'none (rules only)'}")
    table.add_column("group")
    table.add_column("value")
    table.add_column("acc %", justify="right")
    table.add_column("correct/total", justify="right")
    table.add_row("overall", "", pct(summary["accuracy"]), f"{summary['correct']}/{summary['draws']}", style="bold")
    for k, p in (summary.get("pass_at_k") or {}).items():
        table.add_row("pass@k", k, pct(p), "")
    for key, cells in summary["breakdowns"].items():
        for i, (value, cell) in enumerate(cells.items()):
            table.add_row(key if i == 0 else "", value, pct(cell["accuracy"]), f"{cell['correct']}/{cell['total']}",
                          end_section=i == len(cells) - 1)
    if summary.get("unscored"):
        table.add_row("unscored", "", "", f"{summary['unscored']} items without answers")
    return table
