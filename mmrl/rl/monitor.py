"""What a step reports: rewards, accuracy and lengths per data source (V-Triune's source-level
monitoring), the reflection-word rate, every reward component's mean, the loss terms, filtering and
per-stage timing, and what each paper's mechanism did this step (``mechanism_metrics``): the IoU
threshold in force, the curriculum's weights and pass rates, the share the filters kept."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from statistics import mean, pstdev
from typing import Any

from mmrl.rewards.boxes import threshold_at
from mmrl.rewards.scoring import resolve_spec
from mmrl.rl.groups import Group

# Words that mark a model checking or revising its reasoning (V-Triune tracks their rate).
REFLECTION_WORDS = ("wait", "re-check", "recheck", "double-check", "double check", "verify", "re-examine",
                    "reconsider", "let me check", "on second thought", "mistake", "however", "but actually",
                    "重新", "检查", "等等")
_REFLECTION = re.compile("|".join(re.escape(w) for w in REFLECTION_WORDS), re.IGNORECASE)


def reflects(text: str) -> bool:
    """True when a response contains a reflection word or phrase."""
    return _REFLECTION.search(text) is not None


def group_metrics(groups: Iterable[Group], prefix: str = "") -> dict[str, float]:
    """Reward, accuracy, format, length and reflection rate: overall and per source."""
    by_source: dict[str, list[dict]] = defaultdict(list)
    lengths, finish = [], defaultdict(int)
    for g in groups:
        by_source[g.source].extend(g.records)
        for c in g.completions:
            lengths.append(c.num_tokens)
            finish[c.finish_reason] += 1
    records = [r for rs in by_source.values() for r in rs]
    if not records:
        return {}
    out: dict[str, float] = {}

    def summarise(rs: list[dict], tag: str) -> None:
        totals = [float(r["rewards"]["total"]) for r in rs]
        out[f"{prefix}reward{tag}/mean"] = mean(totals)
        out[f"{prefix}accuracy{tag}" if tag else f"{prefix}accuracy/mean"] = mean(
            float(r["rewards"].get("accuracy", 0.0)) for r in rs)
        out[f"{prefix}reflection_rate{tag}"] = mean(1.0 if reflects(r["response"]) else 0.0 for r in rs)
        out[f"{prefix}response_len{tag}/mean"] = mean(float(r["num_tokens"]) for r in rs)

    summarise(records, "")
    out[f"{prefix}reward/std"] = pstdev([float(r["rewards"]["total"]) for r in records])
    out.update(component_means(records, prefix))
    out[f"{prefix}response_len/max"] = float(max(lengths))
    n = sum(finish.values())
    out[f"{prefix}truncated_frac"] = finish["length"] / n
    out[f"{prefix}forced_frac"] = finish["forced"] / n
    out[f"{prefix}error_frac"] = mean(1.0 if r.get("error") else 0.0 for r in records)
    if len(by_source) > 1 or "default" not in by_source:
        for source, rs in sorted(by_source.items()):
            summarise(rs, f"/{source}")
    return out


# Reported as they are elsewhere: the weighted total (reward/mean) and accuracy (accuracy/mean).
NOT_COMPONENTS = ("total", "accuracy")


def component_means(records: list[dict], prefix: str = "") -> dict[str, float]:
    """``COMPONENT/mean`` of every reward component the records report (format, style, step_rar,
    step_rvr, iou, map, ...), each over the records that report it (a V-Triune batch mixes
    verifiers)."""
    values: dict[str, list[float]] = defaultdict(list)
    for r in records:
        for name, value in r["rewards"].items():
            if name not in NOT_COMPONENTS:
                values[name].append(float(value))
    return {f"{prefix}{name}/mean": mean(v) for name, v in sorted(values.items())}


def iou_thresholds(records: list[dict], reward_cfg: Any, progress: float) -> list[float]:
    """The IoU threshold each record that has one was scored against (its merged params at ``progress``)."""
    out = []
    for r in records:
        try:
            params = resolve_spec(r, reward_cfg).params
            if "iou_threshold" in params:
                out.append(threshold_at(params["iou_threshold"], progress))
        except ValueError:
            continue  # a malformed spec was scored as an error; it has no threshold
    return out


def mechanism_metrics(cfg: Any, sampler: Any, collected: Any, step: int, n_items: int) -> dict[str, float]:
    """What each paper's mechanism did in step ``step`` (0-based), for ``metrics.jsonl``:

    - ``iou_threshold``: the mean IoU threshold the step's records were scored against (V-Triune's
      dynamic IoU moves it with training progress);
    - ``curriculum/weight_mean``, ``curriculum/pass_rate_mean``: the curriculum sampler's mean
      sampling weight and estimated pass rate over the prompts it draws from (GLM-4.1V's RLCS);
    - ``filter/kept_frac``: the share of the prompts the offline difficulty band kept (MM-Eureka's
      0/1 filter, GLM's offline grading); ``filter/group_kept_frac``: the share of this step's
      groups the online group filter kept (DAPO's dynamic sampling, MM-Eureka's online band).
    """
    out: dict[str, float] = {}
    records = [r for g in collected.all_groups for r in g.records]
    thresholds = iou_thresholds(records, cfg.reward, min(1.0, step / cfg.run.max_steps))
    if thresholds:
        out["iou_threshold"] = mean(thresholds)
    inner = getattr(sampler, "inner", sampler)
    if hasattr(inner, "pass_rates") and hasattr(inner, "weights"):
        out["curriculum/weight_mean"] = mean(inner.weights())
        out["curriculum/pass_rate_mean"] = mean(inner.pass_rates)
    if cfg.selection.difficulty_band is not None and n_items:
        out["filter/kept_frac"] = len(getattr(sampler, "keep", range(n_items))) / n_items
    if cfg.selection.group_filter != "none" and collected.drawn:
        out["filter/group_kept_frac"] = collected.valid / collected.drawn
    return out
