"""MathVista judge prompt: answer extraction, the step the official pipeline gives to GPT
(lupantech/MathVista ``evaluation/extract_answer.py``: the hint, the query and the response,
after a few worked examples, then ``Extracted answer:``)."""
from __future__ import annotations

from mmrl.eval.prompts import PromptTemplate

EXTRACT_V1 = PromptTemplate(
    id="mathvista/extract",
    version=1,
    template="""Read the examples, then take the final answer out of the last model response. Reply with the answer only, in the form the hint asks for.

Hint: The answer is an integer; give the final value at the end.
Question: How many apples are in the basket?

Model response: I count three red apples and four green ones, so there are 7 apples.

Extracted answer: 7

Hint: The answer is a floating-point number with one decimal place; give the final value at the end.
Question: What is the length of the rope in metres?

Model response: Adding the two segments gives 2.5 + 1.3 = 3.8, so the rope is 3.8 m long.

Extracted answer: 3.8

Hint: The answer is a Python list; give the final list at the end.
Question: In which two months is the rainfall the same?

Model response: The bars for March and May have equal height, which are months 3 and 5.

Extracted answer: [3, 5]

Hint: Answer with the letter of the correct option at the end.
Question: Which shape has the most sides?
Choices:
(A) triangle
(B) square
(C) hexagon

Model response: A hexagon has six sides, more than the others, so the answer is (C) hexagon.

Extracted answer: C

{query}

Model response: {response}

Extracted answer: """,
)

PROMPTS = (EXTRACT_V1,)
