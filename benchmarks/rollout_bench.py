"""Rollout speed: mmrl's hf backend against a plain ``model.generate`` over repeated prompts.

The peer is what TRL's GRPO trainer does with transformers generation: every prompt is repeated
n times in the batch and ``model.generate`` runs over it, so the vision tower and the prompt
prefill run n times per prompt. mmrl's hf backend encodes and prefills each prompt once and
gathers its KV cache out to the n draws. Both decode greedily to a fixed length (no end of
sequence) over the same prompts in one batch, so they do the same number of decode steps and
their tokens must be identical; the table says so in its last column.

    python benchmarks/rollout_bench.py                      # the grid of BENCHMARKS.md
    python benchmarks/rollout_bench.py --sizes m --image-tokens 256 --new-tokens 32 --repeats 3

A random model of a real size works too (``--model DIR`` with a checkpoint folder, e.g. one
written from the Qwen2.5-VL-3B config); on a GPU pass ``--device cuda --dtype bfloat16``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def make_prompts(image_tokens: int, count: int, processor, seed: int = 0):
    """``count`` prompts, each with one random image worth exactly ``image_tokens`` tokens."""
    import numpy as np
    from PIL import Image

    from mmrl.model.processor import image_factor
    from mmrl.rollout import Prompt
    from mmrl.rollout.prompts import FORMAT_INSTRUCTION
    from mmrl.prompting import sample_messages

    side = int(math.isqrt(image_tokens))
    if side * side != image_tokens:
        raise SystemExit(f"--image-tokens must be a square number, got {image_tokens}")
    px = side * image_factor(processor)
    rng = np.random.default_rng(seed)
    questions = ["How many shapes are in the image?", "What colour is the shape?",
                 "What is the value of the expression in the image?", "What text is written in the image?"]
    prompts = []
    for i in range(count):
        img = Image.fromarray(rng.integers(0, 255, (px, px, 3), dtype=np.uint8))
        sample = {"id": f"bench-{i}", "question": questions[i % len(questions)] + " " * (i % 3), "images": ["x"]}
        messages = sample_messages(sample, instruction=FORMAT_INSTRUCTION)
        p = Prompt(sample["id"], messages, [img], sample, image_tokens=image_tokens)
        p.text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prompts.append(p)
    return prompts


def run_baseline(loaded, prompts, n: int, new_tokens: int):
    """TRL-style: repeat each prompt n times, one ``model.generate`` over the batch."""
    import torch

    from mmrl.model.encoding import _left_padding

    processor = loaded.processor
    repeated = [p for p in prompts for _ in range(n)]
    start, cpu = time.perf_counter(), time.process_time()
    with _left_padding(loaded.tokenizer):
        inputs = processor(text=[p.text for p in repeated], images=[im for p in repeated for im in p.images],
                           return_tensors="pt", padding=True).to(loaded.device)
    with torch.inference_mode():
        out = loaded.model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                    eos_token_id=None, pad_token_id=loaded.tokenizer.pad_token_id)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, out[:, inputs["input_ids"].shape[1]:].tolist()


def run_mmrl(backend, prompts, n: int, new_tokens: int):
    from mmrl.rollout import SamplingParams

    params = SamplingParams(n=n, temperature=0, max_new_tokens=new_tokens)
    start, cpu = time.perf_counter(), time.process_time()
    groups = backend.generate(prompts, params)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, [c.token_ids for comps in groups for c in comps]


def tiny_checkpoint(size: str, root: Path) -> str:
    from mmrl.model.tiny import init_tiny

    path = root / f"tiny-{size}"
    if not (path / "config.json").exists():
        init_tiny(path, size=size, seed=0)
    return str(path)


def bench(model_dir: str, label: str, args) -> list[dict]:
    import torch

    from mmrl.model.loading import ModelSpec, load
    from mmrl.rollout.backends.hf import HFBackend

    loaded = load(ModelSpec(model_dir, dtype=args.dtype, device=args.device))
    loaded.model.eval()
    backend = HFBackend(loaded, max_batch_rows=args.prompts * args.n)
    backend.eos_ids = []  # fixed-length responses: both sides decode exactly new_tokens steps
    rows = []
    for image_tokens in args.image_tokens:
        prompts = make_prompts(image_tokens, args.prompts, loaded.processor)
        for new_tokens in args.new_tokens:
            run_baseline(loaded, prompts[:2], args.n, 4)  # warm-up of both paths
            run_mmrl(backend, prompts[:2], args.n, 4)
            base_t, mm_t, base_cpu, mm_cpu = [], [], [], []
            for _ in range(args.repeats):  # interleaved, so a change of machine load hits both sides
                t, c, base_tokens = run_baseline(loaded, prompts, args.n, new_tokens)
                base_t.append(t)
                base_cpu.append(c)
                t, c, mm_tokens = run_mmrl(backend, prompts, args.n, new_tokens)
                mm_t.append(t)
                mm_cpu.append(c)
            b, m = statistics.median(base_t), statistics.median(mm_t)
            tokens = args.prompts * args.n * new_tokens
            rows.append({
                "model": label, "image_tokens": image_tokens, "new_tokens": new_tokens, "n": args.n,
                "prompts": args.prompts, "generate_s": b, "mmrl_s": m,
                "generate_prompts_per_s": args.prompts / b, "mmrl_prompts_per_s": args.prompts / m,
                "generate_tokens_per_s": tokens / b, "mmrl_tokens_per_s": tokens / m,
                "speedup": b / m, "cpu_speedup": statistics.median(base_cpu) / statistics.median(mm_cpu),
                "identical": base_tokens == mm_tokens,
            })
            print_row(rows[-1])
    del backend, loaded
    torch.cuda.empty_cache() if torch.cuda.is_available() else None
    return rows


def print_row(r: dict) -> None:
    print(f"{r['model']:>8} {r['image_tokens']:>6} {r['new_tokens']:>5} {r['n']:>3} | "
          f"{r['generate_prompts_per_s']:>8.2f} {r['generate_tokens_per_s']:>9.0f} | "
          f"{r['mmrl_prompts_per_s']:>8.2f} {r['mmrl_tokens_per_s']:>9.0f} | {r['speedup']:>6.2f}x "
          f"{r['cpu_speedup']:>6.2f}x  {'yes' if r['identical'] else 'NO'}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="s,m", help="tiny model sizes (xs, s, m)")
    ap.add_argument("--model", default=None, help="a checkpoint folder instead of tiny models")
    ap.add_argument("--image-tokens", default="64,256", help="image tokens per prompt (square numbers)")
    ap.add_argument("--new-tokens", default="32,128", help="tokens drawn per response")
    ap.add_argument("--n", type=int, default=8, help="draws per prompt")
    ap.add_argument("--prompts", type=int, default=8, help="prompts per batch")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per cell (median reported)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args()
    args.image_tokens = [int(x) for x in args.image_tokens.split(",")]
    args.new_tokens = [int(x) for x in args.new_tokens.split(",")]

    import torch

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, load {os.getloadavg()[0]:.2f}, "
          f"{args.prompts} prompts x n={args.n}, greedy, median of {args.repeats}")
    print(f"{'model':>8} {'img':>6} {'new':>5} {'n':>3} | {'generate (TRL-style)':^18} | {'mmrl hf':^18} | "
          f"speedup        same")
    print(f"{'':>8} {'tok':>6} {'tok':>5} {'':>3} | {'prompt/s':>8} {'tok/s':>9} | {'prompt/s':>8} {'tok/s':>9} | "
          f"{'wall':>7} {'cpu':>6}  tokens")
    rows = []
    if args.model:
        rows += bench(args.model, Path(args.model).name[:8], args)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for size in args.sizes.split(","):
                rows += bench(tiny_checkpoint(size, Path(tmp)), size, args)
    print(f"load after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
