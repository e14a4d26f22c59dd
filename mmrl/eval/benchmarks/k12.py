"""K12 / MMK12 (MM-Eureka, Meng et al., 2025): fill-in-the-blank K-12 questions with real-world
images (the test split holds 500 questions per subject: math, physics, chemistry, biology).
Scored by the ``math`` verifier, greedy decoding as in the paper; breakdown by subject."""
from __future__ import annotations

from mmrl.eval.benchmark import answer_text, register_benchmark, require
from mmrl.eval.benchmarks.mathverify import MathVerified


@register_benchmark
class K12(MathVerified):
    name = "k12"
    summary = "K12 / MMK12 (test): fill-in-the-blank answers checked by the math verifier"
    hub_id = "FanqingM/MMK12"
    default_split = "test"
    splits = ("test", "train")
    required = ("question", "answer")
    image_fields = ("image", "images")
    breakdowns = ("subject",)

    def to_sample(self, row, images, index, split):
        rid = row.get("id")
        return {
            "id": answer_text(rid) if rid is not None else f"{self.name}-{split}-{index}",
            "question": require(row, "question"),
            "images": images,
            "answer": answer_text(require(row, "answer", (str, int, float))),
            "source": self.name,
            "reward": self.reward_spec(),
            "meta": {"subject": row.get("subject") or "math", "split": split},
        }
