"""Per-source and per-verifier summaries of scored records (V-Triune's source-level monitoring)."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SummaryRow:
    """One group: ``by`` is "all", "source" or "verifier"; means are over the group's records."""

    by: str
    name: str
    n: int
    mean_reward: float
    accuracy: float
    format: float
    errors: int


@dataclass
class _Group:
    n: int = 0
    reward: float = 0.0
    accuracy: float = 0.0
    format: float = 0.0
    errors: int = 0

    def add(self, rewards: Mapping[str, Any], failed: bool) -> None:
        self.n += 1
        self.reward += float(rewards.get("total", 0.0))
        self.accuracy += float(rewards.get("accuracy", 0.0))
        self.format += float(rewards.get("format", 0.0))
        self.errors += failed

    def row(self, by: str, name: str) -> SummaryRow:
        n = max(self.n, 1)
        return SummaryRow(by, name, self.n, self.reward / n, self.accuracy / n, self.format / n, self.errors)


@dataclass
class SummaryAccumulator:
    """Adds scored records one at a time (the CLI streams); ``rows()`` gives the table data."""

    default_verifier: str = "math"
    _all: _Group = field(default_factory=_Group)
    _sources: dict[str, _Group] = field(default_factory=dict)
    _verifiers: dict[str, _Group] = field(default_factory=dict)

    def add(self, record: Mapping[str, Any]) -> None:
        rewards = record.get("rewards") or {}
        failed = "error" in record
        spec = record.get("reward")
        verifier = spec.get("verifier") if isinstance(spec, Mapping) else None
        source = record.get("source")
        self._all.add(rewards, failed)
        self._sources.setdefault(str(source) if source is not None else "-", _Group()).add(rewards, failed)
        self._verifiers.setdefault(str(verifier or self.default_verifier), _Group()).add(rewards, failed)

    def rows(self) -> list[SummaryRow]:
        out = [self._all.row("all", "all")]
        out += [g.row("source", k) for k, g in sorted(self._sources.items())]
        out += [g.row("verifier", k) for k, g in sorted(self._verifiers.items())]
        return out


def summarize(records: Iterable[Mapping[str, Any]], default_verifier: str = "math") -> list[SummaryRow]:
    """Mean reward, accuracy, format and error count overall, per source and per verifier."""
    acc = SummaryAccumulator(default_verifier)
    for r in records:
        acc.add(r)
    return acc.rows()


def summary_table(rows: list[SummaryRow], source: str | None = None):
    """The rows as a rich Table (for stderr), titled with the file they score."""
    from rich.table import Table

    table = Table(title=f"rewards · {source}" if source else "rewards", title_justify="left")
    for col, justify in (("by", "left"), ("name", "left"), ("n", "right"), ("mean reward", "right"),
                         ("accuracy", "right"), ("format", "right"), ("errors", "right")):
        table.add_column(col, justify=justify)
    for r in rows:
        table.add_row(r.by, r.name, str(r.n), f"{r.mean_reward:.3f}", f"{r.accuracy:.3f}", f"{r.format:.3f}",
                      str(r.errors))
    return table
