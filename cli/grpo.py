"""``mmrl grpo``: online RL (GRPO, Dr.GRPO, RLOO, REINFORCE++, DAPO, StepGRPO) on verifiable rewards."""
from __future__ import annotations

from typing import List, Optional

import typer

from mmrl_cli.config import ConfigOption
from mmrl_cli.data_options import ColumnsOption, SplitOption

ALGO_HELP = "grpo, drgrpo, rloo, reinforce_pp, dapo or stepgrpo: sets the defaults of the flags marked [algo]."


def grpo(
    model: str = typer.Option(..., "--model", help="Hub name or folder of an image-text-to-text model (often a warmup-sft output)."),
    data: str = typer.Option(..., "--data", help="Samples (docs/data-format.md) with `answer` (and optional `reward`, `source`, `difficulty`): JSONL, Parquet file or folder, or a dataset folder."),
    split: Optional[str] = SplitOption,
    columns: Optional[str] = typer.Option(None, "--columns", help=ColumnsOption.help + " Applies to --eval-data too."),
    out: str = typer.Option(..., "--out", help="Folder for the final model, metrics.jsonl, samples.jsonl and checkpoints/."),
    algo: str = typer.Option("grpo", "--algo", help=ALGO_HELP),
    group_size: Optional[int] = typer.Option(None, "--group-size", "-G", help="G: responses per prompt [algo; 8]."),
    batch_size: int = typer.Option(8, "--batch-size", help="Prompts (valid groups) per step."),
    mini_batch_size: Optional[int] = typer.Option(None, "--mini-batch-size", help="Prompts per optimizer update (default: the batch)."),
    micro_batch_size: Optional[int] = typer.Option(None, "--micro-batch-size", help="Prompts per forward/backward (memory only)."),
    micro_batch_rows: Optional[int] = typer.Option(None, "--micro-batch-rows", help="Responses per forward/backward inside a micro-batch; the prompts are still prefilled once (memory only)."),
    ppo_epochs: int = typer.Option(1, "--ppo-epochs", help="Passes over each step's batch."),
    max_steps: int = typer.Option(100, "--max-steps", help="Training steps."),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", help="Time budget: no step starts that would likely end past it; the model is saved as after --max-steps."),
    lr: float = typer.Option(1e-6, "--lr", help="Learning rate (AdamW)."),
    scheduler: str = typer.Option("constant", "--scheduler", help="constant, cosine, linear, or FILE.py:FUNCTION."),
    warmup_ratio: float = typer.Option(0.0, "--warmup-ratio", help="Share of the steps spent warming up."),
    weight_decay: float = typer.Option(0.0, "--weight-decay", help="AdamW weight decay."),
    max_grad_norm: float = typer.Option(1.0, "--max-grad-norm", help="Gradient clipping; 0 turns it off."),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", help="Token budget of each response."),
    temperature: Optional[float] = typer.Option(None, "--temperature", help="Sampling temperature [algo; 1.0]."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling (1 = off)."),
    top_k: int = typer.Option(0, "--top-k", help="Top-k sampling (0 = off)."),
    think_budget: Optional[int] = typer.Option(None, "--think-budget", help="Forced answering: close thinking after N tokens."),
    answer_budget: int = typer.Option(64, "--answer-budget", help="Forced answering: tokens for the forced answer."),
    advantage: Optional[str] = typer.Option(None, "--advantage", help="Advantage estimator [algo]: grpo, drgrpo, rloo, reinforce_pp, stepgrpo, FILE.py:FN."),
    beta: Optional[float] = typer.Option(None, "--beta", help="KL coefficient [algo]; 0 loads no reference model."),
    kl_estimator: Optional[str] = typer.Option(None, "--kl-estimator", help="k1, k2 or k3 [algo]."),
    clip_low: Optional[float] = typer.Option(None, "--clip-low", help="Lower clip range eps_low [algo]."),
    clip_high: Optional[float] = typer.Option(None, "--clip-high", help="Upper clip range eps_high [algo]."),
    dual_clip: Optional[float] = typer.Option(None, "--dual-clip", help="Dual-clip constant c > 1 for negative advantages (off by default)."),
    loss_agg: Optional[str] = typer.Option(None, "--loss-agg", help="token-mean, seq-mean-token-mean or seq-mean-token-sum-norm [algo]."),
    entropy_coef: float = typer.Option(0.0, "--entropy-coef", help="Entropy bonus coefficient."),
    sampler: str = typer.Option("uniform", "--sampler", help="uniform, or curriculum (GLM-4.1V RLCS: weights by pass rate, updated online)."),
    difficulty_band: Optional[str] = typer.Option(None, "--difficulty-band", help="Keep samples whose `difficulty` is in LOW:HIGH (from mmrl grade)."),
    group_filter: Optional[str] = typer.Option(None, "--group-filter", help="none, nonconstant (DAPO dynamic sampling) or accuracy_band [algo]."),
    accuracy_band: str = typer.Option("0.1:0.9", "--accuracy-band", help="--group-filter accuracy_band: the kept band of group accuracy."),
    oversample: bool = typer.Option(False, "--oversample", help="EMA oversampling: draw 1/(1 - invalid rate) times the prompts (GLM-4.1V)."),
    max_refill: int = typer.Option(4, "--max-refill", help="Extra draw rounds to fill a batch with valid groups."),
    overlong_filter: bool = typer.Option(False, "--overlong-filter", help="No loss on responses cut at --max-new-tokens (DAPO)."),
    overlong_buffer: Optional[float] = typer.Option(None, "--overlong-buffer", help="Soft overlong penalty over this last share of --max-new-tokens [algo]."),
    overlong_penalty: Optional[float] = typer.Option(None, "--overlong-penalty", help="Largest soft overlong penalty [algo; 1.0]."),
    verifier: Optional[str] = typer.Option(None, "--verifier", help="Verifier of samples without their own reward.verifier [algo; math]."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Reward weights, e.g. accuracy=1.0,format=0.5 [algo]."),
    param: List[str] = typer.Option([], "--param", help="Verifier parameter KEY=VALUE (repeatable)."),
    format_mode: str = typer.Option("strict", "--format-mode", help="strict, lenient or none (the format reward)."),
    format_gate: bool = typer.Option(False, "--format-gate", help="Total reward 0 unless the format is perfect (GLM-4.1V)."),
    reward_spec: Optional[str] = typer.Option(None, "--reward-spec", help="Who wins over a sample's own reward spec: sample, config or merge [algo; sample]."),
    reward_workers: Optional[int] = typer.Option(None, "--reward-workers", help="Reward worker processes (default: one per core; 0 = in process)."),
    reward_timeout: float = typer.Option(2.0, "--reward-timeout", help="Seconds per verifier call."),
    system: Optional[str] = typer.Option(None, "--system", help="System prompt."),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="Format instruction ('' for none; default: the <think>/<answer> one)."),
    cot_pool: bool = typer.Option(False, "--cot-pool", help="Draw the instruction per sample from ~20 wordings (V-Triune)."),
    max_prompt_length: Optional[int] = typer.Option(None, "--max-prompt-length", help="Most prompt tokens, images included."),
    min_pixels: Optional[int] = typer.Option(None, "--min-pixels", help="Smallest image area after resizing."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest image area after resizing."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters; the reference is the base with adapters off."),
    lora_r: int = typer.Option(16, "--lora-r", help="LoRA rank."),
    lora_alpha: int = typer.Option(32, "--lora-alpha", help="LoRA alpha."),
    lora_targets: str = typer.Option("all-linear", "--lora-targets", help="all-linear or module names."),
    merge_lora: bool = typer.Option(True, "--merge-lora/--no-merge-lora", help="Save the final model with adapters merged."),
    freeze_vision: bool = typer.Option(False, "--freeze-vision", help="Freeze the vision tower (V-Triune)."),
    freeze_projector: bool = typer.Option(False, "--freeze-projector", help="Freeze the vision-language projector."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:N."),
    dtype: str = typer.Option("float32", "--dtype", help="Weights dtype: float32, bfloat16, float16, auto."),
    gradient_checkpointing: bool = typer.Option(False, "--gradient-checkpointing", help="Recompute activations in backward."),
    deepspeed: Optional[str] = typer.Option(None, "--deepspeed", help="DeepSpeed config, e.g. recipes/deepspeed/zero2.json (launch with torchrun or deepspeed)."),
    local_rank: Optional[int] = typer.Option(None, "--local_rank", "--local-rank", hidden=True,
                                             help="Set by the deepspeed launcher."),
    seed: int = typer.Option(0, "--seed", help="Seed of prompt order, sampling and initialisation."),
    eval_data: Optional[str] = typer.Option(None, "--eval-data", help="Held-out samples scored greedily every --eval-steps."),
    eval_steps: Optional[int] = typer.Option(None, "--eval-steps", help="Evaluate every N steps (and at the end)."),
    eval_max_new_tokens: Optional[int] = typer.Option(None, "--eval-max-new-tokens", help="Token budget of eval answers."),
    save_steps: Optional[int] = typer.Option(None, "--save-steps", help="Write a resumable checkpoint every N steps."),
    save_total_limit: int = typer.Option(2, "--save-total-limit", help="Checkpoints to keep."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in --out."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start again in an --out that holds a run."),
    report_to: str = typer.Option("none", "--report-to", help="none, tensorboard or wandb (offline without WANDB_API_KEY)."),
    sample_steps: int = typer.Option(10, "--sample-steps", help="Keep (OUT/samples.jsonl) and print sample responses every N steps."),
    rollout_batch_rows: int = typer.Option(64, "--rollout-batch-rows", help="Prompts x G decoded together (memory)."),
    rollout_backend: str = typer.Option("hf", "--rollout-backend", help="hf (shares the trained model) or vllm (a colocated engine in this process; needs --max-prompt-length; run on CPU vLLM only, not yet on a GPU)."),
    vllm_gpu_memory_utilization: float = typer.Option(0.3, "--vllm-gpu-memory-utilization", help="Share of GPU memory the colocated vLLM engine may take."),
    vllm_sleep_level: int = typer.Option(1, "--vllm-sleep-level", help="Between rollouts: 0 keeps the engine awake, 1 offloads its weights to CPU memory and drops its KV cache, 2 drops both (the weights are pushed again)."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Online RL: G responses per prompt, verifier rewards, group advantages, clipped policy loss.

    Example: mmrl grpo --model ckpt/sft --data train.jsonl --out ckpt/rl --algo dapo -G 8 --batch-size 16
    """
    from mmrl.io.columns import parse_columns
    from mmrl.rewards.scoring import parse_params, parse_weights
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import train

    cfg = GRPOConfig(
        model=model, data=data, out=out, algo=algo, split=split, columns=parse_columns(columns) or None,
        group_size=group_size, batch_size=batch_size, mini_batch_size=mini_batch_size,
        micro_batch_size=micro_batch_size, micro_batch_rows=micro_batch_rows, ppo_epochs=ppo_epochs,
        max_steps=max_steps, max_seconds=max_seconds, lr=lr, scheduler=scheduler, warmup_ratio=warmup_ratio,
        weight_decay=weight_decay,
        max_grad_norm=max_grad_norm, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p,
        top_k=top_k, think_budget=think_budget, answer_budget=answer_budget, advantage=advantage, beta=beta,
        kl_estimator=kl_estimator, clip_low=clip_low, clip_high=clip_high, dual_clip=dual_clip, loss_agg=loss_agg,
        entropy_coef=entropy_coef, sampler=sampler, difficulty_band=difficulty_band, group_filter=group_filter,
        accuracy_band=accuracy_band, oversample=oversample, max_refill=max_refill, overlong_filter=overlong_filter,
        overlong_buffer=overlong_buffer, overlong_penalty=overlong_penalty, verifier=verifier,
        weights=parse_weights(weights) if weights else None, params=parse_params(param), format_mode=format_mode,
        format_gate=format_gate, reward_spec=reward_spec, reward_workers=reward_workers, reward_timeout=reward_timeout, system=system,
        instruction=instruction, cot_pool=cot_pool, max_prompt_length=max_prompt_length, min_pixels=min_pixels,
        max_pixels=max_pixels, lora=lora, lora_r=lora_r, lora_alpha=lora_alpha, lora_targets=lora_targets,
        merge_lora=merge_lora, freeze_vision=freeze_vision, freeze_projector=freeze_projector, device=device,
        dtype=dtype, gradient_checkpointing=gradient_checkpointing, deepspeed=deepspeed, seed=seed, eval_data=eval_data, eval_steps=eval_steps, eval_max_new_tokens=eval_max_new_tokens,
        save_steps=save_steps, save_total_limit=save_total_limit, resume=resume, overwrite=overwrite,
        report_to=report_to, sample_steps=sample_steps, rollout_batch_rows=rollout_batch_rows,
        rollout_backend=rollout_backend, vllm_gpu_memory_utilization=vllm_gpu_memory_utilization,
        vllm_sleep_level=vllm_sleep_level,
    )
    result = train(cfg)
    if result.interrupted:
        raise typer.Exit(130)


def register(app: typer.Typer) -> None:
    app.command("grpo")(grpo)
