"""The markers of the response formats the recipes train on, named once for the reward library,
the synthetic data and warm-up SFT.

- GLM-4.1V's answer box: ``<|begin_of_box|>…<|end_of_box|>`` inside ``<answer>``
  (THUDM/GLM-4.1V-Thinking, glmv_reward/README.md).
- Mulberry's sections (the chain-of-thought data R1-VL warms up on; its rewards read them,
  jingyi0000/R1-VL src/r1-vl/src/open_r1/grpo.py): an image description, rationales, numbered
  steps and the final answer.
"""
from __future__ import annotations

GLM_BOX_OPEN, GLM_BOX_CLOSE = "<|begin_of_box|>", "<|end_of_box|>"

MULBERRY_DESCRIPTION = "### Image Description:"
MULBERRY_RATIONALES = "### Rationales:"
MULBERRY_FINAL_ANSWER = "### The final answer is:"
