"""What a step reports: rewards, accuracy and lengths per data source (V-Triune's source-level
monitoring), the reflection-word rate, the loss terms, filtering and per-stage timing."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from statistics import mean, pstdev

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
    out[f"{prefix}format/mean"] = mean(float(r["rewards"].get("format", 0.0)) for r in records)
    out[f"{prefix}response_len/max"] = float(max(lengths))
    n = sum(finish.values())
    out[f"{prefix}truncated_frac"] = finish["length"] / n
    out[f"{prefix}forced_frac"] = finish["forced"] / n
    out[f"{prefix}error_frac"] = mean(1.0 if r.get("error") else 0.0 for r in records)
    if len(by_source) > 1 or "default" not in by_source:
        for source, rs in sorted(by_source.items()):
            summarise(rs, f"/{source}")
    return out
