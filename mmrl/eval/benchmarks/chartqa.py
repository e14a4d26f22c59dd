"""ChartQA (Masry et al., 2022): test split, human-written and machine-augmented questions.

Relaxed accuracy as in google-research/pix2struct ``pix2struct/metrics.py``
(``relaxed_correctness``): when both prediction and target parse as numbers with Python's
``float`` (a trailing ``%`` divides by 100; ``float`` itself allows surrounding whitespace) and the
target is non-zero, correct within 5% relative change; otherwise a case-insensitive string match
of the texts as they are (no whitespace stripped). With several reference labels the best one
counts (pix2struct's max over targets).

The prediction is what the official metric receives: the raw response, or, when the response has
an ``<answer>`` part (mmrl's default instruction asks for one), that part without the whitespace
the tags pad it with (``answer_tag: false`` always takes the raw response). Nothing else is cut
out: a sentence ("The answer is 62.") is not a number there and matches no label.
``lenient: true`` (or the benchmark ``chartqa-lenient``) also strips the response and takes a
``\\boxed{}`` or an "answer is" phrase out of it before the same comparison. Breakdown: human vs
augmented, as the paper reports.
"""
from __future__ import annotations

from mmrl.eval import extract as ex
from mmrl.eval.benchmark import Benchmark, Judgement, RowError, answer_text, register_benchmark, require
from mmrl.rewards.extract import ANSWER_CLOSE, ANSWER_OPEN, final_region, find_tagged

MAX_RELATIVE_CHANGE = 0.05
INSTRUCTION = "Answer the question using a single word or phrase."


def to_float(text: str) -> float | None:
    try:
        if text.endswith("%"):
            return float(text.rstrip("%")) / 100.0
        return float(text)
    except ValueError:
        return None


def relaxed_correctness(target: str, prediction: str, max_relative_change: float = MAX_RELATIVE_CHANGE) -> bool:
    """pix2struct's rule, including its quirk: a zero target falls back to string equality."""
    prediction_float = to_float(prediction)
    target_float = to_float(target)
    if prediction_float is not None and target_float:
        return abs(prediction_float - target_float) / abs(target_float) <= max_relative_change
    return prediction.lower() == target.lower()


def _split_type(row) -> str | None:
    if "type" in row:  # lmms-lab/ChartQA: human_test / augmented_test
        return str(row["type"]).replace("_test", "")
    if "human_or_machine" in row:  # HuggingFaceM4/ChartQA: 0 human, 1 machine
        return "human" if row["human_or_machine"] in (0, "0", "human") else "augmented"
    return None


def official_prediction(response: str, params: dict) -> ex.Extraction:
    """The text the official metric compares: the ``<answer>`` part (its padding stripped) when
    the response has one and ``answer_tag`` is not false, else the raw response untouched."""
    if params.get("answer_tag", True) is not False:
        tagged = find_tagged(final_region(response), ANSWER_OPEN, ANSWER_CLOSE, allow_unclosed=True)
        if tagged:
            return ex.Extraction(tagged[-1].strip(), "answer_tag")
    return ex.Extraction(response, "response")


def lenient_prediction(response: str) -> ex.Extraction:
    """The lenient mode's prediction: the strong extraction rules, else the stripped response."""
    return ex.rule_based(response) or ex.Extraction(response.strip(), "response")


@register_benchmark
class ChartQA(Benchmark):
    name = "chartqa"
    summary = "ChartQA (test): relaxed accuracy (5% numeric tolerance), human/augmented breakdown"
    hub_id = "HuggingFaceM4/ChartQA"
    default_split = "test"
    splits = ("test", "val", "train")
    image_fields = ("image",)
    breakdowns = ("type",)
    scorer = "google-research/pix2struct metrics.relaxed_correctness (5%), official mode: the response as it is"

    def to_sample(self, row, images, index, split):
        question = row.get("query") if row.get("query") is not None else require(row, "question")
        if not isinstance(question, str):
            raise RowError("query", f"must be a string, got {type(question).__name__}")
        if "label" in row:
            labels = row["label"] if isinstance(row["label"], list) else [row["label"]]
        else:
            labels = [require(row, "answer", (str, int, float))]
        labels = [answer_text(x) for x in labels]
        if not labels:
            raise RowError("label", "needs at least one reference answer")
        meta = {"type": _split_type(row), "split": split}
        if len(labels) > 1:
            meta["labels"] = labels
        return {
            "id": answer_text(row["id"]) if row.get("id") is not None else f"{self.name}-{split}-{index}",
            "question": f"{question}\n{INSTRUCTION}",
            "images": images,
            "answer": labels[0],
            "source": self.name,
            "reward": self.reward_spec(),
            "meta": {k: v for k, v in meta.items() if v is not None},
        }

    def score(self, response, sample, params, judge=None):
        lenient = bool(params.get("lenient", self.lenient))
        found = lenient_prediction(response) if lenient else official_prediction(response, params)
        prediction = found.text or ""
        answer = sample.get("answer")
        if answer is None:
            return Judgement(found.text, prediction, None, found.method)
        labels = (sample.get("meta") or {}).get("labels") or [answer_text(answer)]
        tolerance = float(params.get("max_relative_change", MAX_RELATIVE_CHANGE))
        hits = [t for t in labels if relaxed_correctness(t, prediction, tolerance)]
        detail = f"matches {hits[0]!r}" if hits else f"not within {tolerance:.0%} of {labels[0]!r}"
        return Judgement(found.text, prediction, bool(hits), found.method, detail + (" (lenient)" if lenient else ""))


@register_benchmark
class ChartQALenient(ChartQA):
    name = "chartqa-lenient"
    summary = "ChartQA (test): relaxed accuracy on the stripped response or its boxed / 'answer is' part (lenient)"
    scorer = ("google-research/pix2struct metrics.relaxed_correctness (5%), lenient mode: the response stripped, "
              "a \\boxed{} or 'answer is' phrase taken out of it")
    lenient = True
    verifier = ChartQA.name
    is_verifier = False  # the verifier is "chartqa" with params {"lenient": true}

