"""Versioned prompts of the optional judge.

A judge prompt is data that changes results, so each one has an id and a version that the
summary records (``judge.prompts``); editing a prompt means adding a new version, never changing
an old one in place. The wording is mmrl's own; the structure (few-shot extraction, 0/1
judgement) follows the benchmarks' official GPT steps.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PromptTemplate:
    """A judge prompt: ``template`` is ``str.format``-ed with the fields the benchmark gives."""

    id: str
    version: int
    template: str

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"

    def render(self, **fields: str) -> str:
        return self.template.format(**fields)


def get_prompt(ref: str) -> PromptTemplate:
    """A prompt by ``id`` (latest version) or ``id@vN``."""
    from mmrl.eval.prompts import mathverse, mathvista

    table = {p.ref: p for mod in (mathvista, mathverse) for p in mod.PROMPTS}
    if "@v" not in ref:
        versions = [p for p in table.values() if p.id == ref]
        if not versions:
            raise KeyError(ref)
        return max(versions, key=lambda p: p.version)
    return table[ref]
