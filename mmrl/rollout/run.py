"""One ``mmrl rollout`` run: read samples, draw, write records with resume, progress and metrics."""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from mmrl.io.jsonl import STDIO, key_id_sample, open_output
from mmrl.io.metrics import write_metrics
from mmrl.rollout.prompts import PromptConfig
from mmrl.rollout.types import Completion, Prompt, SamplingParams


@dataclass
class RolloutStats:
    """What a run did; written as its metrics."""

    prompts: int = 0
    records: int = 0
    skipped_done: int = 0
    tokens: int = 0
    seconds: float = 0.0
    finish_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def prompts_per_s(self) -> float:
        return self.prompts / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "prompts_per_s": round(self.prompts_per_s, 3), "tokens_per_s": round(self.tokens_per_s, 1)}


def run_rollout(data: str, out: str | None, backend_kind: str, model: Any, params: SamplingParams,
                prompt_cfg: PromptConfig, options: dict[str, Any], resume: bool = False,
                metrics_path: str | None = None, image_root: str | None = None, split: str | None = None,
                columns: dict[str, str] | None = None, inline_images: bool = False) -> RolloutStats:
    """Draw ``params.n`` responses for every sample of ``data`` into ``out`` (stdout when None).

    ``data`` is any source ``mmrl.io.samples`` reads (JSONL, Parquet, dataset folders; ``split``
    and ``columns`` as there). Every sample is checked first, streaming, then streamed again into
    the backend: a million rows are never held in memory. Relative image paths are rewritten for
    ``out``'s folder (``--image-root``: stdin's images); images a Parquet file or dataset held as
    bytes are written once to ``images/`` beside ``out`` (they stay ``data:`` URIs on stdout, and
    with ``inline_images``: for an output that is not kept)."""
    from rich.progress import TextColumn

    from mmrl.console import console, log, make_progress
    from mmrl.io.embedded import IMAGES_DIR, ImageFiles
    from mmrl.io.paths import OutputFolder, check_outputs
    from mmrl.io.samples import open_samples
    from mmrl.rewards.spec import RECORD_CHECKS
    from mmrl.io.schema import base_dir_of, rebase_images
    from mmrl.rollout.backends import make_backend
    from mmrl.rollout.records import rollout_records

    start = time.perf_counter()
    # Every sample is checked (images open, verifiers resolve) before the model costs anything;
    # the model before the output: a model that fails to load must not cost the file it replaces.
    samples = open_samples(data, split=split, columns=columns, image_root=image_root, checks=RECORD_CHECKS)
    total = samples.check(progress="checking samples")
    src_dir, dst_dir = samples.base_dir, base_dir_of(out or STDIO)
    image_files = None
    if samples.columnar and out not in (None, STDIO) and not inline_images:
        check_outputs(folders=[OutputFolder(dst_dir / IMAGES_DIR, label="-o (embedded images beside it)")])
        image_files = ImageFiles(dst_dir)
    backend = make_backend(backend_kind, model, **options)
    try:
        writer, state = open_output(out, resume=resume, key=key_id_sample)
    except BaseException:
        backend.close()
        raise
    if state.kept:
        log.info("resuming: %d draws already in %s%s", state.kept, out,
                 " (repaired a cut last line)" if state.repaired else "")
    model_name = getattr(model, "name_or_path", None) or str(model)
    stats = RolloutStats()
    reasons: Counter[str] = Counter()
    try:
        with writer:
            with make_progress(TextColumn("{task.fields[rate]}")) as progress:
                task = progress.add_task("rollout", total=total, rate="")

                def on_batch(prompts: list[Prompt], completions: list[list[Completion]]) -> None:
                    stats.prompts += len(prompts)
                    stats.tokens += sum(c.num_tokens for comps in completions for c in comps)
                    reasons.update(c.finish_reason for comps in completions for c in comps)
                    stats.seconds = time.perf_counter() - start
                    progress.update(task, advance=len(prompts),
                                    rate=f"{stats.prompts_per_s:.2f} prompts/s  {stats.tokens_per_s:.0f} tok/s")

                items = _skipping(iter(samples), state.done, params.n, stats, progress, task)
                for record in rollout_records(items, backend, params, prompt_cfg, model_name, done=state.done,
                                              on_batch=on_batch):
                    record = rebase_images(record, src_dir, dst_dir)
                    writer.write(image_files.externalize(record) if image_files else record)
                    stats.records += 1
    finally:
        backend.close()
    stats.seconds = time.perf_counter() - start
    stats.finish_reasons = dict(reasons)
    console.print(
        f"rollout: {stats.records} draws of {stats.prompts} samples in {stats.seconds:.1f}s "
        f"({stats.prompts_per_s:.2f} prompts/s, {stats.tokens_per_s:.0f} tokens/s); "
        + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
        + (f"; {stats.skipped_done} samples already done" if stats.skipped_done else ""),
        highlight=False,
    )
    write_metrics(metrics_path, stats.to_dict())
    return stats


def _skipping(items, done, n, stats, progress, task):
    """Pass items through, counting (and advancing the bar past) samples whose draws are all done."""
    for item in items:
        rid = item.record.get("id")
        if done and isinstance(rid, str) and all((rid, j) in done for j in range(n)):
            stats.skipped_done += 1
            progress.advance(task)
        yield item
