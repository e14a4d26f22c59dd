"""``mmrl warmup-sft``: cold-start supervised fine-tuning into the target reasoning format."""
from __future__ import annotations

from typing import Optional

import typer

from mmrl_cli.config import ConfigOption
from mmrl_cli.data_options import ColumnsOption, SplitOption


def warmup_sft(
    model: str = typer.Option(..., "--model", help="Hub name or folder of an image-text-to-text model."),
    data: str = typer.Option(..., "--data", help="Samples (docs/data-format.md) with `response` (or `messages`): "
                             "JSONL ('-' for stdin), Parquet file or folder, or a dataset folder (save_to_disk)."),
    split: Optional[str] = SplitOption,
    columns: Optional[str] = ColumnsOption,
    out: str = typer.Option(..., "--out", help="Folder for the checkpoint, metrics.jsonl and checkpoints/."),
    epochs: float = typer.Option(1.0, "--epochs", help="Passes over the data (ignored with --max-steps)."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", help="Optimizer steps to run (overrides --epochs)."),
    lr: float = typer.Option(1e-5, "--lr", help="Peak learning rate."),
    scheduler: str = typer.Option("cosine", "--scheduler", help="cosine, constant, linear, or FILE.py:FUNCTION."),
    warmup_ratio: float = typer.Option(0.0, "--warmup-ratio", help="Share of the steps spent warming up linearly."),
    min_lr_ratio: float = typer.Option(0.0, "--min-lr-ratio", help="Final learning rate as a share of the peak."),
    weight_decay: float = typer.Option(0.0, "--weight-decay", help="AdamW weight decay (not on biases and norms)."),
    max_grad_norm: float = typer.Option(1.0, "--max-grad-norm", help="Gradient clipping; 0 turns it off."),
    batch_size: int = typer.Option(1, "--batch-size", help="Examples per micro-batch on each process."),
    grad_accum: int = typer.Option(1, "--grad-accum", help="Micro-batches per optimizer step on each process."),
    packing: bool = typer.Option(False, "--packing/--padding", help="Pack each micro-batch into one padding-free row."),
    max_length: int = typer.Option(4096, "--max-length", help="Most tokens of one example (images included)."),
    truncation: str = typer.Option("error", "--truncation", help="Too-long examples: error, truncate or drop."),
    seed: int = typer.Option(0, "--seed", help="Seed of data order, LoRA init and dropout."),
    system: Optional[str] = typer.Option(None, "--system", help="System prompt (same as rollout's)."),
    instruction: Optional[str] = typer.Option(
        None, "--instruction", help="Format instruction appended to each question, as in rollout (default: the "
        "<think>/<answer> instruction; '' for none)."),
    cot_pool: bool = typer.Option(False, "--cot-pool", help="Draw the instruction per sample from rollout's ~20 wordings."),
    dtype: str = typer.Option("auto", "--dtype", help="Compute dtype: auto, float32, bfloat16, float16."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N."),
    attn_implementation: Optional[str] = typer.Option(None, "--attn-implementation", help="sdpa, eager, flash_attention_2."),
    min_pixels: Optional[int] = typer.Option(None, "--min-pixels", help="Smallest image area after resizing."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest image area after resizing."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters instead of all weights."),
    lora_r: int = typer.Option(16, "--lora-r", help="LoRA rank."),
    lora_alpha: int = typer.Option(32, "--lora-alpha", help="LoRA alpha."),
    lora_dropout: float = typer.Option(0.05, "--lora-dropout", help="LoRA dropout."),
    lora_targets: str = typer.Option("all-linear", "--lora-targets", help="all-linear or module names, e.g. q_proj,v_proj."),
    merge_lora: bool = typer.Option(False, "--merge-lora", help="Save the model with the adapters merged in."),
    freeze_vision: bool = typer.Option(False, "--freeze-vision", help="Freeze the vision tower (not the projector)."),
    freeze_projector: bool = typer.Option(False, "--freeze-projector", help="Freeze the vision-language projector."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Recompute activations in backward."),
    filter: bool = typer.Option(False, "--filter", help="Drop responses that break the format, mix languages or repeat blocks."),
    filter_max_repeat: float = typer.Option(0.1, "--filter-max-repeat",
                                            help="--filter: most share of repeated 8-word n-grams kept."),
    save_steps: Optional[int] = typer.Option(None, "--save-steps", help="Write a resumable checkpoint every N steps."),
    save_total_limit: int = typer.Option(2, "--save-total-limit", help="Checkpoints to keep."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start again in an --out that holds a run."),
    log_steps: int = typer.Option(1, "--log-steps", help="Write metrics every N steps."),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="Also log to OUT/tensorboard."),
    deepspeed: Optional[str] = typer.Option(None, "--deepspeed", help="DeepSpeed config, e.g. recipes/deepspeed/zero2.json."),
    local_rank: Optional[int] = typer.Option(None, "--local_rank", "--local-rank", hidden=True,
                                             help="Set by the deepspeed launcher."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Supervised fine-tuning on assistant tokens only, so the model writes the target format before RL."""
    import os

    from mmrl.io.columns import parse_columns
    from mmrl.io.paths import OutputFolder, check_outputs
    from mmrl.sft import SFTConfig, train
    from mmrl.sft.trainer import OUT_WRITES

    check_outputs(inputs={"--data": data, "--model": model, "--deepspeed": deepspeed},
                  folders=[OutputFolder(out, OUT_WRITES, "--out")])
    if local_rank is not None:
        os.environ.setdefault("LOCAL_RANK", str(local_rank))
    cfg = SFTConfig(
        model=model, data=data, out=out, split=split, columns=parse_columns(columns), epochs=epochs,
        max_steps=max_steps, lr=lr, scheduler=scheduler,
        warmup_ratio=warmup_ratio, min_lr_ratio=min_lr_ratio, weight_decay=weight_decay,
        max_grad_norm=max_grad_norm or None, batch_size=batch_size, grad_accum=grad_accum, packing=packing,
        max_length=max_length, truncation=truncation, seed=seed, system=system, instruction=instruction,
        cot_pool=cot_pool,
        dtype=dtype, device=device, attn_implementation=attn_implementation, min_pixels=min_pixels,
        max_pixels=max_pixels, lora=lora, lora_r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout,
        lora_targets=lora_targets, merge_lora=merge_lora, freeze_vision=freeze_vision,
        freeze_projector=freeze_projector, gradient_checkpointing=gradient_checkpointing, filter=filter,
        filter_max_repeat=filter_max_repeat,
        save_steps=save_steps, save_total_limit=save_total_limit, resume=resume, overwrite=overwrite,
        log_steps=log_steps, tensorboard=tensorboard, deepspeed=deepspeed,
    )
    train(cfg)


def register(app: typer.Typer) -> None:
    app.command("warmup-sft")(warmup_sft)
