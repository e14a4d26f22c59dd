"""What the demo reports: held-out accuracy per task and stage (with chance), format, mean reward,
response length; ``summary.json`` and a before/after table on stderr."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from statistics import mean
from typing import Any

STAGE_NAMES = {"base": "base", "sft": "after SFT", "rl": "after RL"}
# summary.json keys of the overall accuracy of each stage (the names)
ACCURACY_KEYS = {"base": "accuracy_base", "sft": "accuracy_before_rl", "rl": "accuracy_after_rl"}


def answer_rewards(predictions: str | Path) -> dict[str, dict[str, float]]:
    """Score an eval's greedy answers with the reward library (each sample's own spec), as ``mmrl
    reward`` would: mean format, total reward and response tokens, overall (``all``) and per source."""
    from mmrl.io.jsonl import iter_records
    from mmrl.rewards import RewardConfig, score_records

    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in score_records(iter_records(predictions), RewardConfig(workers=0)):
        rows[str(record.get("source", "-"))].append(record)
        rows["all"].append(record)
    return {source: {"format": mean(float(r["rewards"]["format"]) for r in rs),
                     "reward": mean(float(r["rewards"]["total"]) for r in rs),
                     "tokens": mean(float(r.get("num_tokens") or 0) for r in rs),
                     "n": len(rs)} for source, rs in rows.items()}


def window_means(history: list[dict[str, Any]], key: str, width: int = 20) -> dict[str, float | None]:
    """The mean of ``key`` over all steps, the first ``width`` and the last ``width`` steps."""
    values = [float(r[key]) for r in history if isinstance(r.get(key), (int, float))]

    def avg(vs: list[float]) -> float | None:
        return round(mean(vs), 4) if vs else None

    return {"mean": avg(values), f"first_{width}": avg(values[:width]), f"last_{width}": avg(values[-width:])}


def rl_signal(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Whether GRPO had something to learn from, from its metrics lines: the valid-group fraction
    (groups with unequal rewards) and the answer entropy of its samples, early and late."""
    from mmrl.demo.metrics import ENTROPY_KEY

    return {"valid_group_frac": window_means(history, "valid_group_frac"),
            "answer_entropy_bits": window_means(history, ENTROPY_KEY)}


def task_of(source: str) -> str:
    return source.split("/", 1)[1] if source.startswith("synth/") else source


def chance_of(source: str) -> float:
    from mmrl.data.synth import TASKS

    name = task_of(source)
    return TASKS.get(name).chance if name in TASKS else 0.0


def per_task_rows(evals: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per task of the held-out set: n, chance and each stage's accuracy, format, reward."""
    sources = evals["base"]["summary"]["breakdowns"]["source"]
    rows = []
    for source, cell in sources.items():
        row: dict[str, Any] = {"task": task_of(source), "source": source, "n": cell["total"],
                               "chance": round(chance_of(source), 4)}
        for stage, ev in evals.items():
            acc = ev["summary"]["breakdowns"]["source"].get(source, {}).get("accuracy")
            row[ACCURACY_KEYS[stage]] = acc
            rewards = ev["rewards"].get(source, {})
            row[f"format_{stage}"] = rewards.get("format")
            row[f"reward_{stage}"] = rewards.get("reward")
        rows.append(row)
    return rows


def build_summary(cfg, evals: dict[str, dict[str, Any]], *, seconds: float, phases: dict[str, float],
                  sft: dict[str, Any], rl: dict[str, Any], grade: dict[str, Any], model: dict[str, Any],
                  overlap: int, paths: dict[str, str]) -> dict[str, Any]:
    """The demo's ``summary.json``: the issue's fields first, then the detail of each phase."""
    tasks = per_task_rows(evals)
    n_test = sum(t["n"] for t in tasks)
    chance = sum(t["chance"] * t["n"] for t in tasks) / max(1, n_test)
    out: dict[str, Any] = {ACCURACY_KEYS[s]: evals[s]["summary"]["accuracy"] for s in evals}
    out["gain_points"] = round(100 * (out["accuracy_after_rl"] - out["accuracy_before_rl"]), 1)
    out.update(chance=round(chance, 4), seconds=seconds, seed=cfg.seed, n_test=n_test, tasks=tasks)
    for key, name in (("format", "format"), ("mean_reward", "reward"), ("response_tokens", "tokens")):
        out[key] = {s: evals[s]["rewards"]["all"][name] for s in evals}
    out["answer_entropy_bits"] = {s: round(evals[s]["answers"]["entropy_bits"], 4) for s in evals}
    out["accuracy_by_answer"] = {s: {a: round(v, 4) for a, v in evals[s]["answers"]["accuracy_by_answer"].items()}
                                 for s in evals}
    out["answers_given"] = {s: evals[s]["answers"]["answers"] for s in evals}
    out["held_out_images_also_in_train"] = overlap
    out["phases_seconds"] = phases
    out["sft"] = sft
    out["rl"] = rl
    out["grade"] = grade
    out["model"] = {k: v for k, v in model.items() if k != "path"}
    out["config"] = cfg.to_dict()
    out["paths"] = paths
    return out


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def print_table(summary: dict[str, Any]) -> None:
    """The before/after table on stderr: accuracy per task (with chance), then format, reward, length."""
    from rich import box
    from rich.table import Table

    from mmrl.console import console

    stages = [s for s in ACCURACY_KEYS if ACCURACY_KEYS[s] in summary]
    table = Table(title=f"held-out accuracy % ({summary['n_test']} samples, greedy), seed {summary['seed']}",
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("", no_wrap=True)
    table.add_column("n", justify="right")
    table.add_column("chance", justify="right")
    for s in stages:
        table.add_column(STAGE_NAMES[s], justify="right")
    table.add_column("RL - SFT", justify="right")

    def gain(before: float | None, after: float | None) -> str:
        return "-" if before is None or after is None else f"{100 * (after - before):+.1f}"

    for t in summary["tasks"]:
        table.add_row(t["task"], str(t["n"]), pct(t["chance"]), *[pct(t[ACCURACY_KEYS[s]]) for s in stages],
                      gain(t.get("accuracy_before_rl"), t.get("accuracy_after_rl")))
    table.add_row("all tasks", str(summary["n_test"]), pct(summary["chance"]),
                  *[pct(summary[ACCURACY_KEYS[s]]) for s in stages],
                  gain(summary.get("accuracy_before_rl"), summary.get("accuracy_after_rl")), style="bold",
                  end_section=True)
    table.add_row("format (0-1)", "", "", *[f"{summary['format'][s]:.2f}" for s in stages], "")
    table.add_row("mean reward", "", "", *[f"{summary['mean_reward'][s]:.2f}" for s in stages], "")
    table.add_row("response tokens", "", "", *[f"{summary['response_tokens'][s]:.1f}" for s in stages], "")
    table.add_row("answer entropy (bits)", "", "", *[f"{summary['answer_entropy_bits'][s]:.2f}" for s in stages], "",
                  end_section=True)
    for answer in sorted({a for s in stages for a in summary["accuracy_by_answer"][s]}):
        table.add_row(f"accuracy: {answer}", "", "", *[pct(summary["accuracy_by_answer"][s].get(answer))
                                                      for s in stages], "")
    console.print(table)
