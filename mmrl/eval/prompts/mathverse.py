"""MathVerse judge prompts: the two GPT steps of the official pipeline (ZrrSkywalker/MathVerse
``evaluation/extract_answer_s1.py`` and ``score_answer_s2.py``): extract the answer from the
response, then judge whether it matches the reference (reply 0 or 1)."""
from __future__ import annotations

from mmrl.eval.prompts import PromptTemplate

EXTRACT_V1 = PromptTemplate(
    id="mathverse/extract",
    version=1,
    template="""You are given a model's response to a math problem. Take out its final answer and reply with that answer only, no explanation. If the response gives no answer, reply null.

Model response: 'The two roots are x = 2 and x = -3, so the solution set is {{2, -3}}.'
Extracted answer: {{2, -3}}

Model response: 'Comparing the options, the graph matches option B: y = 2x + 1.'
Extracted answer: B

Model response: 'The figure does not give enough information to decide.'
Extracted answer: null

Model response: 'Using the Pythagorean theorem, the hypotenuse is sqrt(9 + 16) = 5 cm.'
Extracted answer: 5

Model response: '{response}'
Extracted answer: """,
)

MATCH_V1 = PromptTemplate(
    id="mathverse/match",
    version=1,
    template="""Decide whether a model's answer to a math question agrees with the standard answer. For multiple-choice questions they agree only when the same option is chosen. Otherwise they agree when they state the same value, even in another form (0.5 m and 50 cm agree). Reply 1 if they agree and 0 if not, nothing else.

[Question]: What is the area of the square with side 3?
[Standard Answer]: 9
[Model answer]: 9 square units
Judgement: 1

[Question]: Which option is correct?
Choices:
A:2
B:3
[Standard Answer]: A
[Model answer]: B
Judgement: 0

[Question]: Find x.
[Standard Answer]: 4
[Model answer]: null
Judgement: 0

[Question]: {question}
[Standard Answer]: {answer}
[Model answer]: {extraction}
Judgement: """,
)

PROMPTS = (EXTRACT_V1, MATCH_V1)
