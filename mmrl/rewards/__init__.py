"""Rule-based rewards for RL on verifiable answers: verifiers, shared components, a worker pool.

Library use (grpo, eval)::

    from mmrl.rewards import RewardConfig, RewardScorer, score_record
    with RewardScorer(RewardConfig(workers=4)) as scorer:
        scored = scorer.score(rollout_records, progress=0.3)

Each record's ``reward.verifier`` picks a verifier from ``VERIFIERS`` (V-Triune's sample-level
dispatch); add one with ``@register_verifier("name")`` or name ``path/to/file.py:function``.
Importing this package is light: no torch, no transformers, no sympy.
"""
from mmrl.rewards import choice, detection, mathverifier, number, steps, text  # noqa: F401 - register verifiers
from mmrl.rewards.base import VERIFIERS, Verifier, VerifierResult, register_verifier, summary_of
from mmrl.rewards.extract import Extraction, extract_answer, extract_from_params
from mmrl.rewards.format import format_score
from mmrl.rewards.pool import RewardScorer
from mmrl.rewards.scoring import (
    DEFAULT_WEIGHTS,
    RewardConfig,
    RewardSpec,
    resolve_spec,
    score_record,
    score_records,
    validate_record,
)
from mmrl.rewards.style import style_score
from mmrl.rewards.summary import SummaryAccumulator, SummaryRow, summarize, summary_table

__all__ = [
    "DEFAULT_WEIGHTS", "Extraction", "RewardConfig", "RewardScorer", "RewardSpec", "SummaryAccumulator",
    "SummaryRow", "VERIFIERS", "Verifier", "VerifierResult", "extract_answer", "extract_from_params",
    "format_score", "register_verifier", "resolve_spec", "score_record", "score_records", "style_score",
    "summarize", "summary_of", "summary_table", "validate_record",
]
