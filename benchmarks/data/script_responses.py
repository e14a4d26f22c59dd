"""Responses of a given script and size, for timing answer extraction per script and length.

Each response is worked prose in one script (Latin, CJK, Arabic, Devanagari) with numbers and
small equations in it, grown to a target size in UTF-8 bytes, and ending in one of the ways
models end an answer in that language: an answer phrase, a ``\\boxed{}``, a bold result, or a
last sentence holding the number with a unit word of that script (no phrase at all: the path
that reads sentences hardest). The sentences were written for this benchmark; each response is
built from a seed, so the corpus is the same on every run.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

SCRIPTS = ("Latin", "CJK", "Arabic", "Devanagari")
SIZES = (100, 1024, 4096, 16384)

# (working sentences with {a}, {b}, {c} = a + b; closing forms with {x} = the answer)
_TEXT = {
    "Latin": (
        ["First we add the two amounts: {a} + {b} = {c}, and we check the units. ",
         "The figure shows {a} red blocks and {b} blue blocks, so there are {c} blocks. ",
         "Let me verify the step once more, since {c} - {b} = {a} is consistent. ",
         "Dividing both sides by 2 keeps the relation, so x = {a} stays a candidate. "],
        ["The answer is {x}.", "Therefore, the final answer is $\\boxed{{{x}}}$.", "So she has **{x} pages**.",
         "In total there are {x} apples left on the table."],
    ),
    "CJK": (
        ["首先我们把两个数相加：{a} + {b} = {c}，然后检查单位是否正确。",
         "图中有{a}个红色方块和{b}个蓝色方块，所以一共有{c}个方块。",
         "我们再验证一次，因为 {c} - {b} = {a}，结果是一致的。",
         "两边同时除以2，关系不变，所以 x = {a} 仍然是候选答案。"],
        ["答案是 {x}。", "因此，最终答案为 $\\boxed{{{x}}}$。", "所以她一共有 **{x}页**。", "所以桌子上一共还剩{x}个苹果。"],
    ),
    "Arabic": (
        ["أولاً نجمع العددين: {a} + {b} = {c}، ثم نتحقق من الوحدات. ",
         "يبين الشكل {a} مكعبات حمراء و{b} مكعبات زرقاء، إذن يوجد {c} مكعباً. ",
         "نتحقق من الخطوة مرة أخرى لأن {c} - {b} = {a} متسق. ",
         "بقسمة الطرفين على 2 تبقى العلاقة صحيحة، إذن x = {a} ما زال مرشحاً. "],
        ["الإجابة هي {x}.", "إذن الإجابة النهائية هي $\\boxed{{{x}}}$.", "إذن لديها **{x} صفحة**.",
         "إذن بقي على الطاولة {x} تفاحة."],
    ),
    "Devanagari": (
        ["पहले हम दोनों संख्याओं को जोड़ते हैं: {a} + {b} = {c}, फिर इकाइयों की जाँच करते हैं। ",
         "चित्र में {a} लाल खंड और {b} नीले खंड हैं, इसलिए कुल {c} खंड हैं। ",
         "हम चरण को फिर से जाँचते हैं, क्योंकि {c} - {b} = {a} सुसंगत है। ",
         "दोनों पक्षों को 2 से भाग देने पर संबंध वही रहता है, इसलिए x = {a} अभी भी संभव है। "],
        ["उत्तर: {x}", "अतः अंतिम उत्तर $\\boxed{{{x}}}$ है।", "तो उसके पास **{x} पृष्ठ** हैं।",
         "तो मेज़ पर कुल {x} सेब बचे हैं।"],
    ),
}


@dataclass(frozen=True)
class ScriptResponse:
    script: str
    size: int  # the target size in UTF-8 bytes
    response: str
    answer: str


def build(script: str, size: int, seed: int) -> ScriptResponse:
    """One response of about ``size`` UTF-8 bytes (never more than the target plus its closing)."""
    rng = random.Random(f"{script}/{size}/{seed}")
    working, closings = _TEXT[script]
    answer = str(rng.randint(10, 9999))
    closing = closings[seed % len(closings)].format(x=answer)
    parts: list[str] = []
    used = len(closing.encode())
    while True:
        a, b = rng.randint(1, 999), rng.randint(1, 999)
        sentence = rng.choice(working).format(a=a, b=b, c=a + b)
        if used + len(sentence.encode()) > size and parts:
            break
        if used + len(sentence.encode()) > size:
            break
        parts.append(sentence)
        used += len(sentence.encode())
    return ScriptResponse(script, size, "".join(parts) + "\n" + closing, answer)


def corpus(per_cell: int, scripts=SCRIPTS, sizes=SIZES) -> list[ScriptResponse]:
    return [build(s, n, k) for s in scripts for n in sizes for k in range(per_cell)]
