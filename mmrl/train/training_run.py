"""One training run, warm-up SFT and RL alike: everything around the steps, in one place.

    run = TrainingRun("grpo", cfg.run, OUT_WRITES, config=cfg.to_dict())
    out = run.start()                      # processes, output folder, seed
    ...                                    # load the model, build the engine
    state = run.resume(engine, {"fingerprint": fp, "total_steps": total})
    result = run.loop(engine, total, step, checkpoint_state)
    run.finish(engine, spec, processor, result, summary)

``step(i)`` trains step ``i`` (0-based) and returns a ``Step``: the metrics line to log (or
None) and whatever the caller's ``on_step`` should see. The run logs it to ``metrics.jsonl`` (and
TensorBoard or W&B), shows progress on stderr, writes a checkpoint every ``save_steps`` and when
SIGINT/SIGTERM asks it to stop, keeps to a time budget, and at the end writes the Hugging Face
checkpoint and a JSON summary beside it.
"""
from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.console import console, make_progress
from mmrl.errors import ConfigError
from mmrl.io.metrics import write_json
from mmrl.train.distributed import dist_info, init_process_group
from mmrl.train.metrics_log import MetricsLog, check_reporter, open_wandb
from mmrl.train.outputs import METRICS_FILE, prepare_out_dir, resume_point, save_checkpoint, save_trained
from mmrl.train.signals import StopRequest
from mmrl.train.spec import RunSpec


def fingerprint(ids: Iterable[Any], settings: list[Any]) -> str:
    """What a resumed run must share with the interrupted one to continue its batches: the
    samples' ids in order and the settings that decide the batches."""
    h = hashlib.sha256()
    for rid in ids:
        h.update(str(rid).encode() + b"\0")
    h.update(json.dumps(settings).encode())
    return h.hexdigest()[:16]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (every device) from one number."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@dataclass
class Step:
    """What one step returns: its metrics line (None: nothing to log this step) and what an
    ``on_step`` callback sees besides (the RL batch)."""

    metrics: dict[str, Any] | None
    batch: Any = None


@dataclass
class StepReport:
    """What ``train(..., on_step=)`` is handed after each step."""

    step: int
    total_steps: int
    metrics: dict[str, Any]
    batch: Any = None


@dataclass
class RunResult:
    """What a training run did (SFT and RL alike; the metrics are in ``OUT/metrics.jsonl``)."""

    out_dir: str
    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)   # the logged metrics lines
    seconds: float = 0.0
    resumed_from: int | None = None
    interrupted: str | None = None   # the signal that stopped it (then no final model is written)
    out_of_time: bool = False        # stopped before total_steps by the time budget (the model is saved)
    skipped_updates: int = 0         # RL: updates skipped (non-finite loss or reward, no valid group)
    losses: list[float] = field(default_factory=list)            # SFT: each step's loss
    data: dict[str, Any] = field(default_factory=dict)          # SFT: what the data held and dropped
    model: Any = field(default=None, repr=False)                # the trained module (main process)

    @property
    def metrics_path(self) -> str:
        return str(Path(self.out_dir) / METRICS_FILE)


class TrainingRun:
    """The life of a run around its steps (see the module docstring)."""

    def __init__(self, name: str, spec: RunSpec, writes: Sequence[str], *, config: dict[str, Any],
                 report_to: str = "none", max_seconds: float | None = None,
                 shown: dict[str, str] | None = None):
        self.name, self.spec, self.writes, self.config = name, spec, tuple(writes), config
        self.report_to, self.max_seconds = report_to, max_seconds
        self.shown = shown or {}   # progress label -> metric key
        self.info = dist_info()
        self.out = Path(spec.out)
        self.start_step, self.elapsed_before, self.resumed_from = 0, 0.0, None
        check_reporter(report_to)
        if self.info.world_size > 1 and not spec.deepspeed:
            raise ConfigError(f"launched on {self.info.world_size} processes without --deepspeed CONFIG; "
                              "pass a ZeRO config such as recipes/deepspeed/zero2.json")

    @property
    def is_main(self) -> bool:
        return self.info.is_main

    def start(self) -> Path:
        """Join the other processes, make the output folder (refusing another run's), seed."""
        if self.spec.deepspeed:
            init_process_group(self.info)
        self.out = prepare_out_dir(self.spec.out, self.spec.resume, self.spec.overwrite, self.info,
                                   writes=self.writes)
        if self.spec.deepspeed:
            import torch.distributed as dist

            dist.barrier()  # every process has checked OUT before the main one starts writing there
        seed_everything(self.spec.seed)
        return self.out

    def resume(self, engine, must_match: dict[str, Any]) -> dict[str, Any] | None:
        """With ``--resume``, load the newest usable checkpoint; its trainer state (None: from step 0)."""
        if not self.spec.resume:
            return None
        resumed = resume_point(self.out, engine, must_match)
        self.start_step, self.elapsed_before, self.resumed_from = resumed.step, resumed.elapsed, resumed.resumed_from
        return resumed.state

    def loop(self, engine, total: int, step: Callable[[int], Step], state: Callable[[], dict[str, Any]],
             on_step: Callable[[StepReport], None] | None = None, base: dict[str, Any] | None = None) -> RunResult:
        """Run steps ``start..total-1``: log, show, checkpoint, stop on request or out of time.
        ``state()`` is the trainer's part of a checkpoint (sampler, counters); ``base`` what every
        checkpoint also records (the data fingerprint)."""
        result = RunResult(str(self.out), self.start_step, total, resumed_from=self.resumed_from)
        metrics = self._metrics_log()
        t0 = time.perf_counter()
        with StopRequest() as stop, _Shown(self, total) as shown:
            try:
                for i in range(self.start_step, total):
                    done = step(i)
                    elapsed = self.elapsed_before + time.perf_counter() - t0
                    logged = metrics.log(i + 1, elapsed, **done.metrics) if done.metrics is not None else None
                    if logged is not None:
                        result.history.append(logged)
                    result.steps = i + 1
                    shown.update(i + 1, done.metrics)
                    if on_step is not None:
                        on_step(StepReport(i + 1, total, logged or {}, done.batch))
                    if stop.requested or (self.spec.save_steps and (i + 1) % self.spec.save_steps == 0
                                          and i + 1 < total):
                        self.checkpoint(engine, i + 1, total, elapsed, {**(base or {}), **state()})
                    if self._stops(engine, stop, result, i + 1, total, elapsed - self.elapsed_before):
                        break
            finally:
                if metrics is not None:
                    metrics.close()
        result.seconds = self.elapsed_before + time.perf_counter() - t0
        result.model = engine.module
        return result

    def checkpoint(self, engine, step: int, total: int, elapsed: float, state: dict[str, Any]) -> None:
        save_checkpoint(engine, self.out, step, {"step": step, "total_steps": total, "time": elapsed,
                                                 "world_size": self.info.world_size, **state},
                        self.spec.save_total_limit)

    def _stops(self, engine, stop: StopRequest, result: RunResult, steps: int, total: int, seconds: float) -> bool:
        """True when the run ends after this step: a stop request, or the next step would likely
        end past the time budget (every process decides alike)."""
        if stop.requested:
            result.interrupted = stop.requested
            console.print(f"{self.name}: stopped by {stop.requested} after step {steps}; "
                          f"continue with --resume (checkpoint in {self.out / 'checkpoints'})")
            return True
        late = steps < total and out_of_time(self.max_seconds, steps - self.start_step, seconds,
                                             self.elapsed_before + seconds)
        if self.info.world_size > 1:
            late = engine.all_reduce_sum(1.0 if late else 0.0) > 0
        if late:
            result.out_of_time = True
            console.print(f"{self.name}: time budget of {self.max_seconds:g} s reached after step {steps}")
        return late

    def _metrics_log(self) -> MetricsLog | None:
        if not self.is_main:
            return _Nowhere()
        wandb_run = open_wandb(self.out, self.config, self.spec.resume) if self.report_to == "wandb" else None
        return MetricsLog(self.out / METRICS_FILE, resume_step=self.start_step if self.spec.resume else None,
                          tensorboard_dir=self.out / "tensorboard" if self.report_to == "tensorboard" else None,
                          wandb_run=wandb_run)

    def finish(self, engine, model_spec, processor, result: RunResult, summary: dict[str, Any],
               summary_file: str) -> None:
        """Unless the run was interrupted: the Hugging Face checkpoint in OUT (ZeRO-3 weights
        gathered first), and ``summary_file`` beside it with the config and ``summary``."""
        if result.interrupted is None:
            lora = model_spec.lora
            if save_trained(engine, model_spec, processor, self.out, merge_lora=bool(lora and lora.merge)):
                write_json(self.out / summary_file, {"config": self.config, "steps": result.steps,
                                                     "total_steps": result.total_steps, **summary})
        engine.close()


def out_of_time(max_seconds: float | None, steps_run: int, seconds_run: float, elapsed: float) -> bool:
    """True when one more step, at the mean pace of this run so far, would end past ``max_seconds``."""
    if max_seconds is None or steps_run < 1:
        return False
    return elapsed + seconds_run / steps_run > max_seconds


class _Shown:
    """The progress bar of a run: steps done and the latest value of each shown metric."""

    def __init__(self, run: TrainingRun, total: int):
        from rich.progress import TextColumn

        self.keys = list(run.shown.values())
        columns = [TextColumn(f"{label} {{task.fields[m{i}]:.4g}}") for i, label in enumerate(run.shown)]
        self.bar = make_progress(*columns, enabled=run.is_main)
        self.name, self.total, self.start = run.name, total, run.start_step

    def __enter__(self) -> _Shown:
        self.bar.__enter__()
        fields = {f"m{i}": math.nan for i in range(len(self.keys))}
        self.task = self.bar.add_task(self.name, total=self.total, completed=self.start, **fields)
        return self

    def update(self, steps: int, metrics: dict[str, Any] | None) -> None:
        values = {f"m{i}": metrics[k] for i, k in enumerate(self.keys)
                  if metrics and isinstance(metrics.get(k), (int, float))}
        self.bar.update(self.task, completed=steps, **values)

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)


class _Nowhere:
    """Where the metrics of processes other than the main one go."""

    def log(self, step: int, elapsed: float, **row: Any) -> dict[str, Any]:
        return {"step": step, "time": elapsed, **row}

    def write(self, row: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None
