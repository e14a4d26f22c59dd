"""The warm-up SFT loop: data check, model, engine, steps, checkpoints, final Hugging Face checkpoint.

The loss of an optimizer step is the mean negative log-likelihood over every assistant token of
its global batch (all micro-batches, all processes), so gradient accumulation, padding versus
packing, and one process versus several all give the same update. Weights are kept in float32
for full fine-tuning (``--dtype bfloat16`` then means bf16 compute by autocast, or DeepSpeed's
bf16 mode with fp32 master weights); with LoRA the frozen base is loaded in ``--dtype`` and the
adapters stay in float32.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmrl.console import console, log, make_progress
from mmrl.errors import ConfigError
from mmrl.io.metrics import write_json
from mmrl.model.loading import CHECKPOINT_FILES, LoraSpec, ModelSpec, load, resolve_device, resolve_dtype
from mmrl.sft.collate import Collator, rope_index_of
from mmrl.sft.config import SFTConfig
from mmrl.sft.data import Curator, SFTData, load_sft_data, read_sft_records
from mmrl.sft.schedule import BatchPlan
from mmrl.train.distributed import (
    DeepSpeedEngine,
    DistInfo,
    LocalEngine,
    OptimSpec,
    dist_info,
    fill_ds_config,
    init_process_group,
    load_ds_config,
)
from mmrl.train.checkpoint import CHECKPOINTS
from mmrl.train.loss import nll_sum
from mmrl.train.metrics import MetricsLog
from mmrl.train.optim import warmup_steps_for
from mmrl.train.run import (
    METRICS_FILE,
    enable_checkpointing,
    prepare_out_dir,
    resume_point,
    save_checkpoint,
    save_trained,
    seed_everything,
)

RUN_FILE = "mmrl_sft.json"
# Everything a run writes (or deletes, with --overwrite) directly in its --out folder.
OUT_WRITES = (METRICS_FILE, RUN_FILE, CHECKPOINTS, "tensorboard", *CHECKPOINT_FILES)


@dataclass
class StepInfo:
    """What ``train`` reports to an ``on_step`` callback after each optimizer step."""

    step: int
    total_steps: int
    loss: float
    lr: float
    grad_norm: float


@dataclass
class TrainResult:
    out_dir: str
    steps: int
    total_steps: int
    losses: list[float] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: int | None = None
    model: Any = field(default=None, repr=False)  # the trained module (on the main process)

    @property
    def metrics_path(self) -> str:
        return str(Path(self.out_dir) / METRICS_FILE)


def model_spec(cfg: SFTConfig) -> ModelSpec:
    lora = LoraSpec.from_settings(cfg)
    return ModelSpec(
        cfg.model,
        dtype=cfg.dtype if cfg.lora else "float32",
        device=cfg.device,
        attn_implementation=cfg.attn_implementation, lora=lora, freeze_vision=cfg.freeze_vision,
        freeze_projector=cfg.freeze_projector, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels,
    )


def data_fingerprint(data: SFTData, plan: BatchPlan) -> str:
    h = hashlib.sha256()
    for item in data.records:
        h.update(str(item.record["id"]).encode() + b"\0")
    h.update(json.dumps([plan.n, plan.global_batch, plan.seed]).encode())
    return h.hexdigest()[:16]


def build_engine(cfg: SFTConfig, model, optim: OptimSpec, info: DistInfo, compute_dtype: str):
    if not cfg.deepspeed:
        return LocalEngine(model, optim)
    ds = fill_ds_config(load_ds_config(cfg.deepspeed), optim, cfg.batch_size, cfg.grad_accum,
                        info.world_size, compute_dtype)
    return DeepSpeedEngine(model, optim, ds, info)


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def train(cfg: SFTConfig, on_step: Callable[[StepInfo], None] | None = None,
          curate: Curator | None = None) -> TrainResult:
    """Run warm-up SFT as ``cfg`` says; returns a summary (metrics are in ``OUT/metrics.jsonl``).

    ``on_step`` is called on every process after each optimizer step (monitoring, tests);
    ``curate`` overrides the ``--filter`` curation (a record -> drop reason or None).
    """
    from rich.progress import TextColumn

    info = dist_info()
    if info.world_size > 1 and not cfg.deepspeed:
        raise ConfigError(f"launched on {info.world_size} processes without --deepspeed CONFIG; "
                          "pass a ZeRO config such as recipes/deepspeed/zero2.json")
    if cfg.deepspeed:
        init_process_group(info)
    records = read_sft_records(cfg, show_progress=info.is_main)  # before the model: a bad record costs nothing
    out = prepare_out_dir(cfg.out, cfg.resume, cfg.overwrite, info, writes=OUT_WRITES)
    if cfg.deepspeed:
        import torch.distributed as dist

        dist.barrier()  # every process has checked OUT before the main one starts writing there
    seed_everything(cfg.seed)

    loaded = load(model_spec(cfg))
    model, processor = loaded.model, loaded.processor
    if cfg.gradient_checkpointing:
        enable_checkpointing(model)
    device = resolve_device(cfg.device)
    compute_dtype = _dtype_name(resolve_dtype(cfg.dtype, device))
    if curate is None and cfg.filter:
        from mmrl.sft.curation import make_curator

        curate = make_curator(cfg.filter_max_repeat)
    data = load_sft_data(cfg, processor, curate, show_progress=info.is_main, records=records)
    plan = BatchPlan(len(data), cfg.batch_size, cfg.grad_accum, info.world_size, cfg.seed)
    total = cfg.max_steps or plan.steps_for(cfg.epochs)
    optim = OptimSpec(cfg.lr, cfg.weight_decay, cfg.adam_betas, cfg.adam_eps, cfg.max_grad_norm, cfg.scheduler,
                      total, warmup_steps_for(total, cfg.warmup_ratio), cfg.min_lr_ratio)
    engine = build_engine(cfg, model, optim, info, compute_dtype)
    fingerprint = data_fingerprint(data, plan)

    start, elapsed_before, resumed_from = 0, 0.0, None
    if cfg.resume:
        resumed = resume_point(out, engine, {"fingerprint": fingerprint, "total_steps": total})
        start, elapsed_before, resumed_from = resumed.step, resumed.elapsed, resumed.resumed_from
    if info.is_main:
        _announce(cfg, data, plan, total, start)

    collate = Collator(processor.tokenizer.pad_token_id, cfg.packing,
                       rope_index_of(engine.module) if cfg.packing else None)
    autocast = _autocast(cfg, device, compute_dtype)
    metrics = MetricsLog(out / METRICS_FILE, resume_step=start,
                         tensorboard_dir=out / "tensorboard" if cfg.tensorboard else None) if info.is_main else None
    result = TrainResult(str(out), start, total, data=data.summary(), resumed_from=resumed_from)
    engine.train()
    t0 = time.perf_counter()
    window = Window()
    progress = make_progress(TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[speed]:,.0f} tok/s"),
                             enabled=info.is_main)
    try:
        with progress:
            task = progress.add_task("warmup-sft", total=total, completed=start, loss=float("nan"), speed=0.0)
            for step in range(start, total):
                done = train_step(engine, data, plan, collate, autocast, step)
                result.losses.append(done.loss)
                result.steps = step + 1
                window.add(done)
                if metrics is not None and ((step + 1) % cfg.log_steps == 0 or step + 1 == total):
                    row = window.flush()
                    metrics.log(step + 1, elapsed_before + time.perf_counter() - t0, **row, lr=done.lr,
                                grad_norm=done.grad_norm, epoch=round(plan.epoch_at(step + 1), 4))
                    progress.update(task, loss=row["loss"], speed=row["tokens_per_s"])
                progress.update(task, completed=step + 1)
                if on_step is not None:
                    on_step(StepInfo(step + 1, total, done.loss, done.lr, done.grad_norm))
                if cfg.save_steps and (step + 1) % cfg.save_steps == 0 and step + 1 < total:
                    save_checkpoint(engine, out, step + 1, {
                        "step": step + 1, "total_steps": total, "time": elapsed_before + time.perf_counter() - t0,
                        "fingerprint": fingerprint, "world_size": info.world_size,
                    }, cfg.save_total_limit)
        save_final(engine, cfg, processor, out, result)
    finally:
        if metrics is not None:
            metrics.close()
    result.seconds = elapsed_before + time.perf_counter() - t0
    result.model = engine.module
    if info.is_main:
        console.print(f"warmup-sft: {result.steps} steps, final loss {result.losses[-1]:.4f}; "
                      f"checkpoint in {out}" if result.losses else f"warmup-sft: nothing to do; checkpoint in {out}")
        hint = stalled_hint(result.losses, cfg.lr)
        if hint:
            log.warning(hint)
    engine.close()
    return result


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

    if cfg.deepspeed or compute_dtype == "float32":
        return nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=getattr(torch, compute_dtype))


def _to(batch: dict[str, Any], device) -> dict[str, Any]:
    return {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}


def _announce(cfg: SFTConfig, data: SFTData, plan: BatchPlan, total: int, start: int) -> None:
    s = data.summary()
    dropped = ", ".join(f"{n} {why}" for why, n in sorted(s["dropped"].items())) or "none"
    console.print(f"warmup-sft: {s['kept']} examples ({s['target_tokens']:,} trained of {s['tokens']:,} tokens), "
                  f"dropped: {dropped}; global batch {plan.global_batch} x {total} steps"
                  + (f", resuming at step {start}" if start else ""))


def save_final(engine, cfg: SFTConfig, processor, out: Path, result: TrainResult) -> None:
    """Write the Hugging Face checkpoint (model, or LoRA adapter / merged model, and processor) to OUT."""
    if not save_trained(engine, model_spec(cfg), processor, out, merge_lora=cfg.lora and cfg.merge_lora):
        return
    run = {"config": cfg.to_dict(), "steps": result.steps, "total_steps": result.total_steps,
           "final_loss": result.losses[-1] if result.losses else None, "data": result.data}
    write_json(out / RUN_FILE, run)
