"""One ``mmrl grade`` run: read (or draw and score) rollouts, grade, filter, report."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError
from mmrl.grading.grade import GradeConfig, grade_groups, group_draws
from mmrl.grading.summary import print_summary, summarize
from mmrl.io.jsonl import iter_located, write_jsonl
from mmrl.io.metrics import write_metrics
from mmrl.io.schema import base_dir_of, rebase_images


def run_grade(src: str, out: str | None, cfg: GradeConfig, plot: str | None = None, dropped: str | None = None,
              metrics_path: str | None = None, image_root: str | None = None) -> dict[str, Any]:
    """Grade the scored rollouts of ``src`` into ``out`` (stdout when None); returns the summary.
    Relative image paths are rewritten for each output's folder (``image_root``: stdin's images)."""
    from mmrl.console import console

    groups = group_draws(iter_located(src))
    result = grade_groups(groups, cfg)
    src_dir = base_dir_of(src, image_root)
    write_jsonl(out or "-", (rebase_images(r, src_dir, base_dir_of(out or "-")) for r in result.kept))
    if dropped:
        write_jsonl(dropped, (rebase_images(r, src_dir, base_dir_of(dropped)) for r in result.dropped))
    summary = summarize(result.kept, result.dropped, cfg.ks)
    print_summary(summary, cfg.ks)
    band = f" outside accuracy band {cfg.keep.low:g}:{cfg.keep.high:g}" if cfg.keep else ""
    console.print(
        f"grade: {len(result.kept)} samples written, {len(result.dropped)} dropped{band}"
        + (f" (to {dropped})" if dropped and result.dropped else "")
        + (f"; {result.errors} draws had verifier errors (scored 0)" if result.errors else ""),
        highlight=False,
    )
    if plot:
        from mmrl.grading.plot import plot_difficulty

        plot_difficulty(result.kept + result.dropped, plot)
        console.print(f"histogram: {plot}", highlight=False)
    write_metrics(metrics_path, {"samples": len(groups), "kept": len(result.kept), "dropped": len(result.dropped),
                                 "verifier_errors": result.errors, "by_source": summary})
    return summary


def unscored_path(rollouts: str) -> str:
    """Where ``grade --model --rollouts R`` keeps the draws before they are scored."""
    return str(Path(rollouts).with_suffix("")) + ".unscored.jsonl"


def draw_and_score(data: str, rollouts: str | None, backend_kind: str, model: Any, params, prompt_cfg,
                   options: dict[str, Any], resume: bool = False, image_root: str | None = None,
                   split: str | None = None, columns: dict[str, str] | None = None) -> str:
    """``mmrl rollout`` then ``mmrl reward`` in process; returns the file of scored draws. ``data``
    is any source rollout reads (``split``, ``columns`` as there)."""
    try:
        from mmrl.rewards import RewardConfig, score_records
    except ImportError as e:
        raise ConfigError(f"grade --model needs the reward library (mmrl.rewards): {e}") from None
    from mmrl.io.jsonl import JsonlWriter, iter_records
    from mmrl.rollout.run import run_rollout

    kept = rollouts is not None
    if rollouts is None:
        rollouts = str(Path(tempfile.mkdtemp(prefix="mmrl-grade-")) / "rollouts.jsonl")
    drawn = unscored_path(rollouts)
    # embedded images go to files beside --rollouts; draws in a temporary folder keep them inline,
    # so the graded samples do not point into that folder
    run_rollout(data, drawn, backend_kind, model, params, prompt_cfg, options, resume=resume, image_root=image_root,
                split=split, columns=columns, inline_images=not kept)
    with JsonlWriter(rollouts) as w:
        w.write_all(score_records(iter_records(drawn), RewardConfig()))
    return rollouts
