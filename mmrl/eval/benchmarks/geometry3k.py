"""Geometry3K (Lu et al., 2021) in the form RL toolkits use (``hiyouga/geometry3k``: ``problem``
with an ``<image>`` mark, ``images``, a free-form ``answer``): test split of 601 problems, scored
by the ``math`` verifier as EasyR1's math reward does."""
from __future__ import annotations

from mmrl.eval.benchmark import RowError, answer_text, register_benchmark
from mmrl.eval.benchmarks.mathverify import MathVerified


@register_benchmark
class Geometry3K(MathVerified):
    name = "geometry3k"
    summary = "Geometry3K (test): free-form answers checked by the math verifier"
    hub_id = "hiyouga/geometry3k"
    default_split = "test"
    splits = ("test", "validation", "train")
    required = ("answer",)
    image_fields = ("images", "image")
    breakdowns = ()

    def to_sample(self, row, images, index, split):
        question = row.get("problem", row.get("question"))
        if not isinstance(question, str):
            raise RowError("problem", "required field is missing (or give question)")
        if question.count("<image>") != len(images):
            question = question.replace("<image>", "").strip()
        rid = row.get("id")
        return {
            "id": answer_text(rid) if rid is not None else f"{self.name}-{split}-{index}",
            "question": question,
            "images": images,
            "answer": answer_text(row["answer"]),
            "source": self.name,
            "reward": self.reward_spec(),
            "meta": {"split": split},
        }
