"""Offline difficulty grading: pass@k and difficulty per sample from n scored draws.

``mmrl grade`` reads scored rollouts (``mmrl rollout | mmrl reward``), groups them by sample id
and writes one graded sample per id (SPEC section 4); an accuracy band drops prompts that are
always or never solved (MM-Eureka), named buckets label difficulty levels.
"""
from mmrl.grading.bands import Band, Buckets, parse_band, parse_buckets
from mmrl.grading.grade import GradeConfig, GradeResult, Group, grade_groups, graded_record, group_draws
from mmrl.grading.pass_at_k import DIFFICULTY, GroupStats, group_stats, merge_difficulty, pass_at_k

__all__ = [
    "DIFFICULTY", "Band", "Buckets", "GradeConfig", "GradeResult", "Group", "GroupStats", "grade_groups",
    "graded_record", "group_draws", "group_stats", "merge_difficulty", "parse_band", "parse_buckets", "pass_at_k",
]
