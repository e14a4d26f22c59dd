"""The SFT data set: every record checked before training starts, examples built on demand.

Loading reads the whole data once (JSONL, Parquet or a dataset folder: ``mmrl.io.samples``),
validates each record against SPEC.md, applies the ``--filter`` curation and builds every
example once to learn its length and its number of trained tokens. So a bad record stops the run before the first step with ``PATH:LINE: field:
reason``, records dropped by the filter or the ``drop`` truncation policy are counted by reason,
and the number of trained tokens of every global batch is known in advance (the loss is their
mean over the global batch, on one process or many). Built examples are kept in memory while
they fit a budget, else rebuilt when their batch comes.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.console import console, track
from mmrl.errors import DataError
from mmrl.io.jsonl import Located
from mmrl.io.samples import open_samples
from mmrl.rewards.spec import RECORD_CHECKS
from mmrl.io.schema import base_dir_of
from mmrl.sft.example import Example, ExampleError, TooLong, build_example, num_targets
from mmrl.sft.mulberry import convert_records

CACHE_BUDGET_BYTES = 1 << 30

Curator = Callable[[dict[str, Any]], str | None]


@dataclass
class SFTData:
    """Kept records with their sizes; ``example(i)`` gives the i-th built example."""

    records: list[Located]
    lengths: list[int]
    targets: list[int]
    dropped: Counter = field(default_factory=Counter)
    base_dir: Path | None = None
    processor: Any = None
    cfg: Any = None
    cache: list[Example] | None = None

    def __len__(self) -> int:
        return len(self.records)

    def example(self, i: int) -> Example:
        if self.cache is not None:
            return self.cache[i]
        return build_example(self.records[i].record, self.processor, self.cfg, self.base_dir)

    def summary(self) -> dict[str, Any]:
        return {"kept": len(self), "dropped": dict(self.dropped), "tokens": sum(self.lengths),
                "target_tokens": sum(self.targets)}


def _nbytes(example: Example) -> int:
    return sum(v.numel() * v.element_size() for v in example.values() if hasattr(v, "element_size"))


def read_sft_records(cfg, show_progress: bool = False) -> list[Located]:
    """Every record of ``cfg.data`` (any source ``mmrl.io.samples`` reads, with its ``split`` and
    ``columns``), checked as samples (images open, ids unique) with a target (``response`` or
    ``messages``): read before the model loads, so a bad record costs nothing."""
    samples = open_samples(cfg.data.data, split=cfg.data.split, columns=cfg.data.columns, checks=RECORD_CHECKS)
    records = samples.read_all(progress="checking SFT data" if show_progress else None)
    for item in records:
        if "messages" not in item.record and "response" not in item.record:
            raise item.error("required for warmup-sft (or give messages)", "response")
    records, mulberry = convert_records(records)
    if mulberry and show_progress:
        console.print(f"warmup-sft: {mulberry} Mulberry-format targets (### Step N: ... ### The final answer is:) "
                      "read as <think>…</think><answer>…</answer>", highlight=False)
    return records


def load_sft_data(cfg, processor, curate: Curator | None = None, show_progress: bool = True,
                  records: list[Located] | None = None) -> SFTData:
    """Curate and measure the records of ``cfg.data`` (read and checked here unless given)."""
    base_dir = base_dir_of(cfg.data.data)
    data = SFTData([], [], [], Counter(), base_dir, processor, cfg, cache=[])
    cached_bytes = 0
    items = read_sft_records(cfg) if records is None else records
    if show_progress:
        items = track(items, "building SFT examples")
    for item in items:
        record = item.record
        if curate is not None:
            reason = curate(record)
            if reason is not None:
                data.dropped[reason] += 1
                continue
        try:
            example = build_example(record, processor, cfg, base_dir)
        except TooLong as e:
            if cfg.batch.truncation == "drop":
                data.dropped["too long"] += 1
                continue
            raise item.error(e.reason, e.field) from None
        except ExampleError as e:
            raise item.error(e.reason, e.field) from None
        data.records.append(item)
        data.lengths.append(int(example["input_ids"].numel()))
        data.targets.append(num_targets(example))
        if data.cache is not None:
            cached_bytes += _nbytes(example)
            if cached_bytes <= CACHE_BUDGET_BYTES:
                data.cache.append(example)
            else:
                data.cache = None
    if not data.records:
        why = f" (dropped: {dict(data.dropped)})" if data.dropped else ""
        raise DataError(str(cfg.data.data), None, f"no usable SFT records{why}")
    return data
