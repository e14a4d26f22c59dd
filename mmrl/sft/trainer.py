"""The warm-up SFT loop: data check, model, engine, steps; ``TrainingRun`` does the rest.

The loss of an optimizer step is the mean negative log-likelihood over every assistant token of
its global batch (all micro-batches, all processes), so gradient accumulation, padding versus
packing, and one process versus several all give the same update. Weights are kept in float32
for full fine-tuning (``--dtype bfloat16`` then means bf16 compute by autocast, or DeepSpeed's
bf16 mode with fp32 master weights); with LoRA the frozen base is loaded in ``--dtype`` and the
adapters stay in float32.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

from mmrl.console import console, log
from mmrl.io.paths import OutputFolder, check_outputs
from mmrl.model.loading import CHECKPOINT_FILES, ModelSpec, enable_checkpointing, load, resolve_device, resolve_dtype
from mmrl.sft.collate import Collator, rope_index_of
from mmrl.sft.config import SFTConfig
from mmrl.sft.data import Curator, SFTData, load_sft_data, read_sft_records
from mmrl.sft.schedule import BatchPlan
from mmrl.train.checkpoint import CHECKPOINTS
from mmrl.train.distributed import DeepSpeedEngine, DistInfo, LocalEngine, OptimSpec, fill_ds_config, load_ds_config
from mmrl.train.loss import nll_sum
from mmrl.train.outputs import METRICS_FILE
from mmrl.train.training_run import RunResult, Step, StepReport, TrainingRun, fingerprint

RUN_FILE = "mmrl_sft.json"
# Everything a run writes (or deletes, with --overwrite) directly in its --out folder.
OUT_WRITES = (METRICS_FILE, RUN_FILE, CHECKPOINTS, "tensorboard", *CHECKPOINT_FILES)


def train(cfg: SFTConfig, on_step: Callable[[StepReport], None] | None = None,
          curate: Curator | None = None) -> RunResult:
    """Run warm-up SFT as ``cfg`` says; returns what the run did (metrics are in ``OUT/metrics.jsonl``).

    ``on_step`` is called on every process after each optimizer step (monitoring, tests);
    ``curate`` overrides the ``--filter`` curation (a record -> drop reason or None).
    """
    run = TrainingRun("warmup-sft", cfg.run, OUT_WRITES, config=cfg.to_dict(),
                      report_to="tensorboard" if cfg.run.tensorboard else "none",
                      shown={"loss": "loss", "tok/s": "tokens_per_s"})
    check_outputs(inputs={"--data": cfg.data.data, "--model": cfg.model.name_or_path, "--deepspeed": cfg.run.deepspeed},
                  folders=[OutputFolder(cfg.run.out, OUT_WRITES, "--out")])
    records = read_sft_records(cfg, show_progress=run.is_main)  # before the model: a bad record costs nothing
    run.start()
    spec = load_spec(cfg)
    loaded = load(spec)
    if cfg.run.gradient_checkpointing:
        enable_checkpointing(loaded.model)
    compute_dtype = _dtype_name(resolve_dtype(cfg.model.dtype, resolve_device(cfg.model.device)))
    data = load_sft_data(cfg, loaded.processor, curate or curator(cfg), show_progress=run.is_main, records=records)
    plan = BatchPlan(len(data), cfg.batch.batch_size, cfg.batch.grad_accum, run.info.world_size, cfg.run.seed)
    total = cfg.run.max_steps or plan.steps_for(cfg.run.epochs)
    engine = build_engine(cfg, loaded.model, cfg.optim.for_updates(total), run.info, compute_dtype)
    fingerprint = data_fingerprint(data, plan)
    run.resume(engine, {"fingerprint": fingerprint, "total_steps": total})
    if run.is_main:
        _announce(data, plan, total, run.start_step)
    engine.train()
    step = SFTStep(cfg, engine, data, plan, loaded.processor, compute_dtype, total)
    result = run.loop(engine, total, step, dict, on_step, base={"fingerprint": fingerprint})
    result.losses, result.data = step.losses, data.summary()
    run.finish(engine, spec, loaded.processor, result,
               {"final_loss": result.losses[-1] if result.losses else None, "data": result.data}, RUN_FILE)
    if run.is_main:
        _report(result, cfg.optim.lr)
    return result


def load_spec(cfg: SFTConfig) -> ModelSpec:
    """Full fine-tuning keeps float32 weights (``--dtype`` is then the compute dtype); LoRA loads
    the frozen base in ``--dtype``."""
    return cfg.model if cfg.model.lora else replace(cfg.model, dtype="float32")


def curator(cfg: SFTConfig) -> Curator | None:
    if not cfg.curation.filter:
        return None
    from mmrl.sft.curation import make_curator

    return make_curator(cfg.curation.filter_max_repeat)


def data_fingerprint(data: SFTData, plan: BatchPlan) -> str:
    return fingerprint((item.record["id"] for item in data.records), [plan.n, plan.global_batch, plan.seed])


def build_engine(cfg: SFTConfig, model, optim: OptimSpec, info: DistInfo, compute_dtype: str):
    if not cfg.run.deepspeed:
        return LocalEngine(model, optim)
    ds = fill_ds_config(load_ds_config(cfg.run.deepspeed), optim, cfg.batch.batch_size, cfg.batch.grad_accum,
                        info.world_size, compute_dtype)
    return DeepSpeedEngine(model, optim, ds, info)


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


class SFTStep:
    """``step(i)`` for the training run: one optimizer step, and a metrics line every ``log_steps``."""

    def __init__(self, cfg: SFTConfig, engine, data: SFTData, plan: BatchPlan, processor, compute_dtype: str,
                 total: int):
        self.engine, self.data, self.plan, self.total, self.every = engine, data, plan, total, cfg.run.log_steps
        self.collate = Collator(processor.tokenizer.pad_token_id, cfg.batch.packing,
                                rope_index_of(engine.module) if cfg.batch.packing else None)
        self.autocast = _autocast(cfg, resolve_device(cfg.model.device), compute_dtype)
        self.window = Window()
        self.losses: list[float] = []

    def __call__(self, step: int) -> Step:
        done = train_step(self.engine, self.data, self.plan, self.collate, self.autocast, step)
        self.losses.append(done.loss)
        self.window.add(done)
        if (step + 1) % self.every and step + 1 != self.total:
            return Step(None)
        return Step({**self.window.flush(), "lr": done.lr, "grad_norm": done.grad_norm,
                     "epoch": round(self.plan.epoch_at(step + 1), 4)})


def _report(result: RunResult, lr: float) -> None:
    console.print(f"warmup-sft: {result.steps} steps, final loss {result.losses[-1]:.4f}; checkpoint in "
                  f"{result.out_dir}" if result.losses else f"warmup-sft: nothing to do; checkpoint in {result.out_dir}")
    hint = stalled_hint(result.losses, lr)
    if hint:
        log.warning(hint)


def stalled_hint(losses: list[float], lr: float, window: int = 5) -> str | None:
    """A hint when the loss barely moved over the run (the last steps within 10% of the first),
    with the settings that train the built-in data and tiny model; None when it learned."""
    if len(losses) < 2 * window:
        return None
    first, last = sum(losses[:window]) / window, sum(losses[-window:]) / window
    if last < 0.9 * first:
        return None
    return (f"the loss barely moved ({first:.3f} -> {last:.3f} over {len(losses)} steps at lr {lr:g}); "
            "lr 1e-5 suits pretrained 7B models. For the built-in data and a tiny model (mmrl model init-tiny) "
            "use what the demo uses: --lr 3e-3 --batch-size 8 --scheduler cosine --warmup-ratio 0.05")


@dataclass
class StepDone:
    loss: float
    lr: float
    grad_norm: float
    targets: int
    tokens: int


def train_step(engine, data: SFTData, plan: BatchPlan, collate: Collator, autocast, step: int) -> StepDone:
    """One optimizer step over this process's micro-batches of the global batch ``step``.

    Each micro-batch's summed token loss is divided by the global batch's number of trained tokens,
    so the gradients add up to those of the mean loss over the whole global batch.
    """
    indices = plan.global_indices(step)
    targets = max(1, sum(data.targets[i] for i in indices))
    nll_local = 0.0
    for micro in plan.micro_batches(step, engine.info.rank):
        batch = _to(collate([data.example(i) for i in micro]), engine.device)
        with autocast:
            logits = engine.forward(batch).logits
        nll, _ = nll_sum(logits, batch["labels"])
        engine.backward(nll / targets)
        nll_local += float(nll.detach())
    lr = engine.lr()
    grad_norm = engine.step()
    loss = engine.all_reduce_sum(nll_local) / targets
    return StepDone(loss, lr, grad_norm, targets, sum(data.lengths[i] for i in indices))


class Window:
    """Steps since the last metrics line: token-weighted mean loss and throughput."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.nll, self.targets, self.tokens, self.since = 0.0, 0, 0, time.perf_counter()

    def add(self, done: StepDone) -> None:
        self.nll += done.loss * done.targets
        self.targets += done.targets
        self.tokens += done.tokens

    def flush(self) -> dict[str, Any]:
        now = time.perf_counter()
        row = {"loss": self.nll / max(self.targets, 1), "tokens_per_s": self.tokens / max(now - self.since, 1e-9),
               "tokens": self.tokens, "target_tokens": self.targets}
        self.reset()
        return row


def _autocast(cfg: SFTConfig, device: str, compute_dtype: str):
    import torch

    if cfg.run.deepspeed or compute_dtype == "float32":
        return nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=getattr(torch, compute_dtype))


def _to(batch: dict[str, Any], device) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}


def _announce(data: SFTData, plan: BatchPlan, total: int, start: int) -> None:
    s = data.summary()
    dropped = ", ".join(f"{n} {why}" for why, n in sorted(s["dropped"].items())) or "none"
    console.print(f"warmup-sft: {s['kept']} examples ({s['target_tokens']:,} trained of {s['tokens']:,} tokens), "
                  f"dropped: {dropped}; global batch {plan.global_batch} x {total} steps"
                  + (f", resuming at step {start}" if start else ""))
