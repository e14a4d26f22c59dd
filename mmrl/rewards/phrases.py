"""Words models use around a final answer, in several languages: answer phrases and negations.

Kept apart from the rules that use them so that a language is added in one place. Every pattern
is a plain alternation of literal phrases (no nested quantifiers), so matching is linear.
"""
from __future__ import annotations

import re

# "the answer is", "Final answer:", "答案是", "Ответ:"... A phrase ends where the answer starts.
_ANSWER_PHRASES = [
    # English
    r"(?:the\s+)?(?:final\s+|correct\s+|right\s+|best\s+)?(?:answer|option|choice)\s*(?:is\b|should\s+be|would\s+be|must\s+be|will\s+be|=|:)",
    r"(?:the\s+)?final\s+(?:result|value)\s*(?:is|:)", r"answer\s*[:：]", r"####",
    # French, Spanish, Portuguese, Italian
    r"(?:la\s+)?(?:bonne\s+)?r[ée]ponse(?:\s+finale|\s+correcte)?\s*(?:est|:|=)",
    r"(?:la\s+)?respuesta(?:\s+final|\s+correcta)?\s*(?:es|:|=)",
    r"(?:a\s+)?resposta(?:\s+final|\s+correta)?\s*(?:é|:|=)",
    r"(?:la\s+)?risposta(?:\s+finale|\s+corretta)?\s*(?:è|:|=)",
    # German, Dutch, Swedish, Polish
    r"(?:die\s+)?(?:antwort|l[öo]sung|ergebnis)\s*(?:ist|lautet|:|=)", r"(?:het\s+)?antwoord\s*(?:is|:)",
    r"svaret\s+är", r"odpowied[źz]\s*[:=]",
    # Russian, Ukrainian, Greek, Turkish, Indonesian, Vietnamese
    r"(?:правильный\s+)?ответ\s*(?:[:—–=-]|будет)", r"відповідь\s*[:—–=-]", r"απάντηση\s+είναι",
    r"(?:cevap|yanıt)\s*(?:[:=])?", r"jawaban(?:nya)?\s*(?:adalah|:)", r"đáp\s+án(?:\s+là|\s*:)",
    # Arabic, Persian, Hebrew, Hindi, Thai
    r"(?:الإجابة|الجواب)(?:\s+الصحيحة)?\s*(?:هي|هو|:)?", r"پاسخ\s*:", r"התשובה\s+היא", r"उत्तर\s*:?",
    r"คำตอบ(?:คือ)?",
    # Chinese, Japanese, Korean
    r"(?:最终|正确)?答案\s*(?:应该是|是|为|[:：])", r"故答案为", r"答\s*[:：]", r"(?:所以|故|因此|本题|应)选(?:择)?\s*[:：]?",
    r"正确选项(?:为|是)", r"的值(?:为|是)", r"答え\s*(?:は|[:：])", r"正解は", r"求める値は", r"정답은", r"정답\s*[:：]",
    r"답\s*[:：]",
]
ANSWER_PHRASE = re.compile(r"(?<![A-Za-z])(?:" + "|".join(_ANSWER_PHRASES) + r")", re.IGNORECASE)

# Words right before an option letter that rule it out: "not A", "it can't be A", "不是 A", "non A".
NEGATION_BEFORE = re.compile(
    r"(?:\bnot|n't|\bnever|\bno|\bnor|\bneither|\bexcept|\bexcluding|\beliminat\w*|\brather\s+than|\binstead\s+of"
    r"|\brule\s+out|\bruled\s+out|\bnon|\bpas|\bplutôt\s+que|\bau\s+lieu\s+de|\bnicht|\bkein\w*|\bnão"
    r"|không\s+phải|не|кроме|不是|而不是|不选|排除|除了|非|وليست|ليست|ليس)"
    r"\s*(?:be\s+|the\s+|option\s+|choice\s+|l'option\s+|la\s+|le\s+|选项\s*)?[\(\[（]?\s*$",
    re.IGNORECASE,
)
# Words right after an option letter that rule it out: "A is wrong", "A est faux", "A 选项错误", "A ではありません".
NEGATION_AFTER = re.compile(
    r"^\s*[\)\]）]?\s*(?:选项\s*)?(?:(?:is|are|was|seems|looks)\s+(?:also\s+)?(?:wrong|incorrect|false|not\b|out\b|too\s+\w+)"
    r"|(?:est|sont)\s+(?:aussi\s+)?(?:faux|fausse|incorrecte?s?|exclue?s?)|(?:ist|sind)\s+(?:falsch|nicht)"
    r"|(?:es|son)\s+(?:incorrecta?s?|falsa?s?)|也?(?:错误|不对|错|不正确)|ではありません|ではない|말고|아님|неверн\w*|не\s+подходит)",
    re.IGNORECASE,
)
# "B aussi", "B too", "B 也": the letter shares the verdict of the letter named before it.
SAME_AS_BEFORE = re.compile(r"^\s*[\)\]）]?\s*(?:aussi|too|also|as\s+well|也|同样)\b", re.IGNORECASE)
# Words that join letters into one group: "A or B", "A, B and C", "A 和 B", "A ou B".
LETTER_JOINER = re.compile(r"^\s*(?:,|、|/|&|and|or|nor|et|ou|y|o|und|oder|e|和|或|与|及|或者|и|или)?\s*$", re.IGNORECASE)
HEDGE_JOINER = re.compile(r"\b(?:or|ou|oder|o|или)\b|或", re.IGNORECASE)
