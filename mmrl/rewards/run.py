"""The ``mmrl reward`` run: check every record, score through the pool, write, summarise."""
from __future__ import annotations

import time
from pathlib import Path
from dataclasses import asdict

from mmrl.console import console, log, make_progress
from mmrl.errors import DataError
from mmrl.io.jsonl import iter_located, key_id_sample, open_output
from mmrl.io.metrics import write_metrics
from mmrl.io.schema import base_dir_of, draw_key_errors, rebase_images
from mmrl.rewards.pool import RewardScorer
from mmrl.rewards.scoring import RewardConfig, override_notice, spec_overrides, validate_record
from mmrl.rewards.summary import SummaryAccumulator, SummaryRow, summary_table


def run_reward(src: str, out: str | None, cfg: RewardConfig, *, resume: bool = False,
               metrics_path: str | None = None, image_root: str | None = None,
               given: frozenset[str] | set[str] = frozenset()) -> list[SummaryRow]:
    """Score the rollout records of ``src`` into ``out``; returns the summary rows. Relative image
    paths are rewritten for ``out``'s folder (``image_root``: where stdin's images live).

    Every record is checked before any scoring starts: a missing response or an unknown verifier
    is a PATH:LINE error (exit 2), not thousands of error records.
    """
    started = time.perf_counter()
    records = []
    located = list(iter_located(src))
    for loc in located:
        problem = validate_record(loc.record, cfg)
        if problem is not None:
            raise loc.error(problem[1], problem[0])
        records.append(loc.record)
    for error in draw_key_errors(located):  # what grade, next, would refuse
        raise error
    if not records:
        raise DataError(str(src), None, "no records to score")
    notice = override_notice(spec_overrides(records, cfg, given), len(records))
    if notice:
        log.warning("reward: %s", notice)

    writer, state = open_output(out, resume=resume, key=key_id_sample)
    todo = [r for r in records if key_id_sample(r) not in state.done]
    if state.kept:
        console.print(f"resume: {state.kept} records already scored, {len(todo)} to go")
    summary = SummaryAccumulator(cfg.verifier)
    with writer, RewardScorer(cfg) as scorer:
        scorer.start()  # before the progress bar's refresh thread exists (fork safety)
        with make_progress() as bar:
            task = bar.add_task("scoring", total=len(todo))
            src_dir, dst_dir = base_dir_of(src, image_root), base_dir_of(out or "-")
            for scored in scorer.iter_score(todo):
                writer.write(rebase_images(scored, src_dir, dst_dir))
                summary.add(scored)
                bar.advance(task)
    rows = summary.rows()
    console.print(summary_table(rows, "stdin" if src == "-" else "/".join(Path(src).parts[-2:])))
    seconds = time.perf_counter() - started
    write_metrics(metrics_path, {
        "records": len(todo), "skipped_done": state.kept, "seconds": round(seconds, 3),
        "records_per_s": round(len(todo) / seconds, 2) if seconds > 0 else None,
        "summary": [asdict(r) for r in rows],
    })
    return rows
