"""``mmrl rollout``: draw n responses per sample (one JSONL record per draw)."""
from __future__ import annotations

from typing import Optional

import typer

from mmrl.rollout.prompts import FORMAT_INSTRUCTION

from mmrl_cli.recipes import ConfigOption
from mmrl_cli.data_options import ColumnsOption, SplitOption


def rollout(
    model: str = typer.Option(..., "--model", "-m", help="Model folder or hub name (openai: the served model name)."),
    data: str = typer.Option(..., "--data", "-d", help="Input samples (docs/data-format.md): JSONL ('-' for stdin), "
                             "Parquet file or folder, or a dataset folder (save_to_disk)."),
    split: Optional[str] = SplitOption,
    columns: Optional[str] = ColumnsOption,
    n: int = typer.Option(1, "-n", "--n", min=1, help="Draws per sample."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Output JSONL (default stdout)."),
    backend: str = typer.Option("hf", "--backend", help="hf (in-process transformers), vllm, or openai (HTTP)."),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", min=1, help="Token budget of each response."),
    temperature: float = typer.Option(1.0, "--temperature", min=0.0, help="0 is greedy decoding."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass (1 = off)."),
    top_k: int = typer.Option(0, "--top-k", min=0, help="Top-k sampling (0 = off)."),
    stop: Optional[list[str]] = typer.Option(None, "--stop", help="Stop string (repeatable); cut from the response."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed: the same seed gives the same draws, whatever the batching."),
    think_budget: Optional[int] = typer.Option(
        None, "--think-budget", help="Forced answering: after this many tokens without </think>, append "
        "'</think><answer>' and let the model answer (finish_reason 'forced')."),
    answer_budget: int = typer.Option(64, "--answer-budget", min=1, help="Tokens for the forced answer."),
    system: Optional[str] = typer.Option(None, "--system", help="System prompt."),
    instruction: str = typer.Option(
        FORMAT_INSTRUCTION, "--instruction", show_default=False, help="Format instruction appended to each question "
        "(default: the <think>/<answer> instruction; '' for none)."),
    cot_pool: bool = typer.Option(False, "--cot-pool", help="Draw the instruction per sample from ~20 wordings (V-Triune)."),
    max_prompt_length: Optional[int] = typer.Option(
        None, "--max-prompt-length", help="Refuse prompts longer than this (text + image tokens), naming the sample."),
    min_pixels: Optional[int] = typer.Option(None, "--min-pixels", help="Smallest image area after resizing."),
    max_pixels: Optional[int] = typer.Option(None, "--max-pixels", help="Largest image area after resizing."),
    dtype: str = typer.Option("auto", "--dtype", help="auto, float32, bfloat16 or float16 (hf, vllm)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda[:i] (hf)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="hf: draws decoded together (prompts x n)."),
    tensor_parallel_size: int = typer.Option(1, "--tensor-parallel-size", min=1, help="vllm: GPUs per engine."),
    gpu_memory_utilization: float = typer.Option(0.85, "--gpu-memory-utilization", help="vllm: memory share."),
    base_url: str = typer.Option("http://127.0.0.1:8000/v1", "--base-url", help="openai: endpoint base URL."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="OPENAI_API_KEY", help="openai: API key."),
    server: str = typer.Option("auto", "--server", help="openai: auto, vllm, sglang, transformers or generic."),
    concurrency: int = typer.Option(8, "--concurrency", min=1, help="openai: requests in flight."),
    max_retries: int = typer.Option(5, "--max-retries", min=0, help="openai: retries with backoff per request."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run: skip draws already in -o."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Write run metrics (JSON) here (default: OUT.metrics.json)."),
    image_root: Optional[str] = typer.Option(None, "--image-root", help="Folder that relative image paths of stdin records are relative to (default: the current folder)."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Draw n responses per sample; one SPEC rollout record per (sample, draw), flushed as written."""
    from mmrl.model.loading import ModelSpec
    from mmrl.rollout import PromptConfig, SamplingParams
    from mmrl.io.columns import parse_columns
    from mmrl.io.metrics import metrics_output, metrics_path_for
    from mmrl.io.paths import check_outputs
    from mmrl.rollout.run import run_rollout

    mapping = parse_columns(columns)
    params = SamplingParams(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            stop=list(stop or []), seed=seed, think_budget=think_budget, answer_budget=answer_budget)
    prompt_cfg = PromptConfig(system=system, instruction=instruction,
                              cot_pool=cot_pool, pool_seed=seed or 0, max_prompt_length=max_prompt_length,
                              min_pixels=min_pixels, max_pixels=max_pixels)
    spec = ModelSpec(model, dtype=dtype, device=device, min_pixels=min_pixels, max_pixels=max_pixels)
    options = {
        "hf": {"max_batch_rows": batch_size},
        "vllm": {"tensor_parallel_size": tensor_parallel_size, "gpu_memory_utilization": gpu_memory_utilization,
                 "dtype": dtype, "max_prompt_length": max_prompt_length,
                 "max_new_tokens": params.max_new_tokens if not params.forcing else max(
                     params.max_new_tokens, params.think_budget + params.answer_budget + 16)},
        "openai": {"base_url": base_url, "api_key": api_key, "server": server, "concurrency": concurrency,
                   "max_retries": max_retries},
    }.get(backend, {})
    target = model if backend == "openai" else spec
    metrics_path = metrics_path_for(out, metrics)
    check_outputs({"-o": out, **metrics_output(out, metrics)}, {"--data": data, "--model": model})
    run_rollout(data, out, backend, target, params, prompt_cfg, options, resume=resume, metrics_path=metrics_path,
                image_root=image_root, split=split, columns=mapping)


def register(app: typer.Typer) -> None:
    app.command("rollout")(rollout)
