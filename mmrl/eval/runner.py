"""The three paths of ``mmrl eval``: prepare samples, score rollouts, or run a model end to end.

An output folder holds ``samples.jsonl`` (the benchmark split as SPEC samples, images under
``images/``), ``predictions.jsonl`` (one audit row per draw, appended with flush so ``--resume``
skips what is done), ``run.json`` (what was asked: benchmark, split, model, sampling, judge) and
``summary.json`` (the metrics). The model path draws with the rollout library, so an eval prompt
is the exact prompt format a model was trained with.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.console import console, log, make_progress
from mmrl.errors import ConfigError, DataError
from mmrl.eval.benchmark import Benchmark, get_benchmark
from mmrl.eval.data import IMAGES_DIR
from mmrl.eval.judge import Judge, JudgeConfig
from mmrl.eval.scoring import audit_row, score_batches, score_located, scoring_pool
from mmrl.eval.summary import summarize, summary_table
from mmrl.io.jsonl import iter_located, key_id_sample, open_output, read_jsonl, write_jsonl
from mmrl.io.metrics import write_json
from mmrl.rewards.spec import reward_problems
from mmrl.rollout.prompts import FORMAT_INSTRUCTION
from mmrl.io.strictjson import read_json_file

SAMPLES_FILE = "samples.jsonl"
PREDICTIONS_FILE = "predictions.jsonl"
SUMMARY_FILE = "summary.json"
RUN_FILE = "run.json"
# What each path writes in its output folder (an input there would be overwritten).
PREPARE_WRITES = (SAMPLES_FILE, IMAGES_DIR)
SCORE_WRITES = (PREDICTIONS_FILE, SUMMARY_FILE, RUN_FILE)
RUN_WRITES = PREPARE_WRITES + SCORE_WRITES
# what must agree between a run and the run it resumes
RESUME_KEYS = ("benchmark", "split", "data", "limit", "model", "sampling", "prompt")


@dataclass
class EvalConfig:
    """Everything one eval run depends on; recorded in ``run.json`` and checked on ``--resume``."""

    benchmark: str
    out_dir: Path
    data: str | None = None
    split: str | None = None
    limit: int | None = None
    model: str | None = None
    backend: str = "hf"
    n: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 1024
    seed: int | None = 0
    batch_size: int = 8
    system: str | None = None
    instruction: str | None = FORMAT_INSTRUCTION  # None or "": no instruction
    dtype: str = "auto"
    device: str = "auto"
    backend_opts: dict[str, Any] = field(default_factory=dict)
    judge: JudgeConfig | None = None
    resume: bool = False

    def resolved_split(self, bench: Benchmark) -> str:
        split = self.split or bench.default_split
        if self.data is None and split not in bench.splits:
            raise ConfigError(f"{bench.name} has no split {split!r}; known: {', '.join(bench.splits)}")
        return split

    def record(self, bench: Benchmark) -> dict[str, Any]:
        return {
            "benchmark": bench.name,
            "split": self.resolved_split(bench),
            "data": self.data or bench.hub_id,
            "limit": self.limit,
            "model": self.model,
            "backend": self.backend,
            "sampling": {"n": self.n, "temperature": self.temperature, "top_p": self.top_p,
                         "max_new_tokens": self.max_new_tokens, "seed": self.seed},
            "prompt": {"system": self.system, "instruction": self.instruction},
            "judge": None if self.judge is None else {"model": self.judge.model, "base_url": self.judge.base_url},
        }


def _check_resume(out_dir: Path, record: dict[str, Any]) -> None:
    path = out_dir / RUN_FILE
    if not path.exists():
        return
    before = read_json_file(path)
    if not isinstance(before, dict):
        raise DataError(str(path), None, "not an eval run file: expected a JSON object")
    changed = [k for k in RESUME_KEYS if k in before and before.get(k) != record.get(k)]
    if changed:
        raise ConfigError(f"{out_dir}: --resume with different {', '.join(changed)} than the run there "
                          f"({', '.join(f'{k}={before.get(k)!r}' for k in changed)}); use a new -o folder")


def prepare(bench: Benchmark, out_dir: Path, data: str | None, split: str, limit: int | None,
            reuse: bool = False) -> Path:
    """Write the split as SPEC samples to ``out_dir/samples.jsonl`` (kept as is when ``reuse``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / SAMPLES_FILE
    if reuse and path.exists():
        return path
    from mmrl.eval.data import iter_samples

    with make_progress() as progress:
        task = progress.add_task(f"{bench.name} {split}: loading", total=limit)
        count = write_jsonl(path, _advancing(iter_samples(bench, data, split, out_dir, limit), progress, task))
    if count == 0:
        raise ConfigError(f"{bench.name} {split}: the data has no rows")
    log.info("%s %s: %d samples -> %s", bench.name, split, count, path)
    return path


def _advancing(items: Iterable[Any], progress, task) -> Iterator[Any]:
    for item in items:
        yield item
        progress.advance(task)


def finish(bench: Benchmark, out_dir: Path, run: dict[str, Any], judge: Judge | None, started: float) -> dict[str, Any]:
    """Summarise ``predictions.jsonl`` into ``summary.json`` and print the table."""
    rows = read_jsonl(out_dir / PREDICTIONS_FILE)
    info = {k: v for k, v in run.items() if k not in ("benchmark", "judge")}
    summary = summarize(bench, rows, **info, judge=judge_summary(judge, rows),
                        seconds=round(time.perf_counter() - started, 3))
    write_json(out_dir / SUMMARY_FILE, summary)
    console.print(summary_table(summary))
    return summary


def judge_summary(judge: Judge | None, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The judge as the audit shows it was used (over resumed runs too), or None."""
    if judge is None:
        return None
    calls = [c for r in rows for c in r.get("judge") or []]
    return {**judge.describe(), "calls": len(calls), "prompts": sorted({c["prompt"] for c in calls})}


def usable_judge(bench: Benchmark, judge: JudgeConfig | None) -> JudgeConfig | None:
    """A judge only for benchmarks whose official scorer calls one; else a warning and None."""
    if judge is not None and not bench.judge_roles:
        log.warning("%s: the official scorer uses no GPT step; --judge-url is ignored (rules only)", bench.name)
        return None
    return judge


def score_file(bench_name: str, rollouts: str, out_dir: Path, *, judge: JudgeConfig | None = None,
               resume: bool = False, split: str | None = None) -> dict[str, Any]:
    """Score existing rollout records (from ``mmrl rollout`` on prepared samples, or any tool)."""
    started = time.perf_counter()
    bench = get_benchmark(bench_name)
    judge = usable_judge(bench, judge)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = list(iter_located(rollouts))
    for item in records:  # a verifier this build lacks is refused now, not scored as wrong
        for field, why in reward_problems(item.record):
            raise item.error(why, field)
    models = sorted({str(r.record.get("model")) for r in records if r.record.get("model")})
    run = {"benchmark": bench.name, "split": split or bench.default_split, "data": str(rollouts),
           "model": ", ".join(models) or None,
           "judge": None if judge is None else {"model": judge.model, "base_url": judge.base_url}}
    if resume:
        _check_resume(out_dir, run)
    write_json(out_dir / RUN_FILE, run)
    client = Judge(judge) if judge else None
    writer, state = open_output(out_dir / PREDICTIONS_FILE, resume=resume, key=key_id_sample)
    pending = [r for r in records if key_id_sample(r.record) not in state.done]
    with writer, make_progress() as progress, scoring_pool(bench_name) as scorer:
        task = progress.add_task(f"{bench.name}: scoring", total=len(pending))
        for row in score_located(bench, pending, client, scorer):
            writer.write(row)
            progress.advance(task)
    return finish(bench, out_dir, run, client, started)


def run_eval(cfg: EvalConfig) -> dict[str, Any]:
    """Prepare the benchmark, draw responses with the model, score them, and summarise."""
    if not cfg.model:
        raise ConfigError("--model is required to run a benchmark (or use 'mmrl eval score' on rollouts)")
    started = time.perf_counter()
    bench = get_benchmark(cfg.benchmark)
    cfg.judge = usable_judge(bench, cfg.judge)
    split = cfg.resolved_split(bench)
    run = cfg.record(bench)
    out_dir = Path(cfg.out_dir)
    if cfg.resume:
        _check_resume(out_dir, run)
    samples_path = prepare(bench, out_dir, cfg.data, split, cfg.limit, reuse=cfg.resume)
    write_json(out_dir / RUN_FILE, run)
    client = Judge(cfg.judge) if cfg.judge else None
    writer, state = open_output(out_dir / PREDICTIONS_FILE, resume=cfg.resume, key=key_id_sample)
    todo = sum(1 for it in iter_located(samples_path) for k in range(cfg.n) if (it.record["id"], k) not in state.done)
    if state.kept:
        log.info("resuming: %d draws already scored, %d to go", state.kept, todo)
    with writer:
        if todo:
            _draw_and_score(cfg, bench, samples_path, todo, writer, state.done, client)
    return finish(bench, out_dir, run, client, started)


def _backend_target(cfg: EvalConfig):
    """What ``make_backend`` takes: a ModelSpec for local backends, the served name for openai."""
    if cfg.backend == "openai":
        return cfg.model, dict(cfg.backend_opts)
    from mmrl.model.loading import ModelSpec

    options = dict(cfg.backend_opts)
    if cfg.backend == "hf":
        options.setdefault("max_batch_rows", cfg.batch_size * cfg.n)
    return ModelSpec(cfg.model, dtype=cfg.dtype, device=cfg.device), options


def _draw_and_score(cfg: EvalConfig, bench: Benchmark, samples_path: Path, todo: int, writer, done: set,
                    judge) -> None:
    from mmrl.rollout import PromptConfig, SamplingParams, make_backend, rollout_records

    params = SamplingParams(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p,
                            max_new_tokens=cfg.max_new_tokens, seed=cfg.seed)
    prompt_cfg = PromptConfig(system=cfg.system, instruction=cfg.instruction or None)
    target, options = _backend_target(cfg)
    scorer = scoring_pool(cfg.benchmark)
    scorer.start()  # before the model loads: workers fork from a small process
    backend = make_backend(cfg.backend, target, **options)
    try:
        with make_progress() as progress:
            task = progress.add_task(f"{bench.name}: {cfg.model}", total=todo)
            drawn = rollout_records(iter_located(samples_path), backend, params, prompt_cfg, cfg.model,
                                    done=done, batch_prompts=cfg.batch_size)
            rows = (audit_row(bench, r, judge) for r in drawn) if judge is not None else \
                score_batches(drawn, scorer, batch=max(1, cfg.batch_size * cfg.n))
            for row in rows:
                writer.write(row)
                progress.advance(task)
    finally:
        backend.close()
        scorer.close()
