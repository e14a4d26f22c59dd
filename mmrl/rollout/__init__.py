"""Drawing responses from a vision-language model: the library behind ``mmrl rollout``.

The online RL trainer and ``mmrl eval`` call these in process, step after step::

    backend = make_backend("hf", loaded_model)            # or "vllm", "openai"
    prompts = [build_prompt(item, cfg=PromptConfig(), processor=backend.processor) for item in items]
    groups = backend.generate(prompts, SamplingParams(n=8, temperature=1.0, seed=0))

``rollout_records`` does the same from SPEC samples to SPEC rollout records.
"""
from mmrl.rollout.backends import BACKENDS, make_backend
from mmrl.rollout.cleaning import clean_response, make_cleaner
from mmrl.rollout.prompts import COT_POOL, FORMAT_INSTRUCTION, PromptBuilder, PromptConfig, build_prompt
from mmrl.rollout.records import rollout_record, rollout_records
from mmrl.rollout.types import Backend, Completion, Prompt, SamplingParams

__all__ = [
    "BACKENDS", "COT_POOL", "FORMAT_INSTRUCTION", "Backend", "Completion", "Prompt", "PromptBuilder",
    "PromptConfig", "SamplingParams", "build_prompt", "clean_response", "make_backend", "make_cleaner",
    "rollout_record", "rollout_records",
]
