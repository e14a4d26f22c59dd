"""Any SPEC.md sample file as a benchmark: each item scored by its own reward spec.

This is how a user evaluates on their own data, or on the built-in synthetic set
(``mmrl data synth``), with the same definition of correct that training rewards use: the
sample's ``reward.verifier`` (default ``math``) decides, and an item is correct when that
verifier's accuracy is 1. Breakdowns by ``source`` and by verifier, as V-Triune monitors.
"""
from __future__ import annotations

from typing import Any

from mmrl.eval.benchmark import Benchmark, Judgement, RowError, register_benchmark

DEFAULT_VERIFIER = "math"


def sample_verifier(sample: dict[str, Any]) -> str:
    spec = sample.get("reward")
    name = spec.get("verifier") if isinstance(spec, dict) else None
    return name or DEFAULT_VERIFIER


@register_benchmark
class SpecSamples(Benchmark):
    name = "spec"
    summary = "Your own samples (docs/data-format.md; e.g. mmrl data synth): each scored by its reward.verifier"
    hub_id = ""
    default_split = "all"
    splits = ("all",)
    required = ("id",)
    image_fields = ("images",)
    breakdowns = ("source", "verifier")
    judge_roles = ()
    is_verifier = False  # it only delegates to the sample's own verifier
    scorer = "each sample's own reward.verifier from mmrl's reward registry (accuracy 1 = correct)"

    def to_sample(self, row, images, index, split):
        if not isinstance(row.get("question"), str) and "messages" not in row:
            raise RowError("question", "required field is missing (or give messages)")
        verifier = sample_verifier(row)
        if verifier == self.name:
            raise RowError("reward.verifier", "a spec sample must name the verifier that scores it, not 'spec'")
        sample = dict(row)
        sample["images"] = images
        sample.setdefault("source", self.name)
        sample["meta"] = {**(row.get("meta") or {}), "source": sample["source"], "verifier": verifier}
        return sample

    def score(self, response: str, sample: dict[str, Any], params: dict[str, Any], judge=None) -> Judgement:
        from mmrl.rewards.base import VERIFIERS

        name = sample_verifier(sample)
        if name == self.name:
            raise ValueError("a spec sample must name the verifier that scores it, not 'spec'")
        if sample.get("answer") is None:
            return Judgement(None, None, None, name, "no reference answer")
        result = VERIFIERS.get(name)(response, sample, params)
        correct = result.accuracy >= 1.0
        detail = "" if correct else ("no answer found" if result.extracted is None else f"accuracy {result.accuracy:g}")
        return Judgement(result.extracted, result.extracted, correct, name, detail)
