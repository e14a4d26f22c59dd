"""Warm-up SFT: mmrl warmup-sft (padding and packing) beside TRL's SFTTrainer, same model, data and steps.

The peer is TRL's SFTTrainer on the vision-language prompt-completion format (its completion-only
loss path for images; TRL refuses packing and padding-free batches for vision datasets). Both train
the same tiny random Qwen2.5-VL from the same weights on the same synthetic cold-start samples
with the same prompt, micro-batch, learning rate, constant schedule and float32 on CPU. Reported:
trained steps per second and real (non-padding) tokens per second of the training loop, the
tokens each trains on, and the training loss at the start and the end.

    pip install trl            # the peer; not an mmrl dependency
    python benchmarks/sft_vs_trl.py --size s --n 64 --steps 20 --batch-size 8
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def build(tmp: Path, size: str, n: int, image_size: int):
    from mmrl.data.synth import synthesize
    from mmrl.model.tiny import init_tiny

    model_dir, data = tmp / "model", tmp / "data" / "sft.jsonl"
    init_tiny(model_dir, size=size, seed=0)
    synthesize(data, task="mix", n=n, seed=0, image_size=image_size)
    return str(model_dir), str(data)


def run_mmrl(model_dir, data, out, args, packing: bool) -> dict:
    from mmrl.sft import SFTConfig, train

    t0 = time.perf_counter()
    cfg = SFTConfig.from_flags(model=model_dir, data=data, out=out, max_steps=args.steps, batch_size=args.batch_size,
                    lr=args.lr, scheduler="constant", packing=packing, max_grad_norm=1.0, overwrite=True)
    result = train(cfg)
    wall = time.perf_counter() - t0
    import json

    lines = [json.loads(x) for x in Path(out, "metrics.jsonl").read_text().splitlines()]
    loop = lines[-1]["time"] - lines[0]["time"]  # steps 2..N: the loop, without start-up
    tokens = sum(r["tokens"] for r in lines[1:])
    trained = sum(r["target_tokens"] for r in lines[1:])
    return {"wall": wall, "steps_per_s": (len(lines) - 1) / loop, "tokens_per_s": tokens / loop, "trained_per_step": trained / (len(lines) - 1),
            "loss_first": result.losses[0], "loss_last": result.losses[-1]}


def run_trl(model_dir, data, out, args) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import SFTConfig as TRLConfig
    from trl import SFTTrainer

    from mmrl.images import load_image
    from mmrl.io.jsonl import read_jsonl
    from mmrl.model.loading import load
    from mmrl.prompting import sample_messages
    from mmrl.rollout.prompts import FORMAT_INSTRUCTION

    t0 = time.perf_counter()
    loaded = load(model_dir)
    base = Path(data).parent
    rows = []
    for s in read_jsonl(data):
        user = sample_messages(s, instruction=FORMAT_INSTRUCTION)  # the same prompt mmrl trains on
        rows.append({"prompt": user, "completion": [{"role": "assistant", "content": [{"type": "text", "text": s["response"]}]}],
                     "images": [load_image(r, base) for r in s["images"]]})
    dataset = Dataset.from_list(rows)

    class Clock(TrainerCallback):
        def __init__(self):
            self.times, self.losses, self.tokens, self.trained = [], [], 0, 0

        def on_step_end(self, targs, state, control, **kw):
            self.times.append(time.perf_counter())

        def on_log(self, targs, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                self.losses.append(logs["loss"])

    clock = Clock()
    cfg = TRLConfig(output_dir=out, per_device_train_batch_size=args.batch_size, max_steps=args.steps,
                    learning_rate=args.lr, lr_scheduler_type="constant", warmup_steps=0, logging_steps=1,
                    report_to=[], save_strategy="no", use_cpu=True, bf16=False, fp16=False, max_length=None,
                    gradient_checkpointing=False, dataloader_num_workers=0, max_grad_norm=1.0, seed=0,
                    weight_decay=0.0, disable_tqdm=True)
    trainer = SFTTrainer(model=loaded.model, args=cfg, train_dataset=dataset, processing_class=loaded.processor,
                         callbacks=[clock])
    torch.manual_seed(0)
    trainer.train()
    wall = time.perf_counter() - t0
    tokens = trained = batches = 0
    for batch in trainer.get_train_dataloader():  # one epoch of what TRL feeds the model
        tokens += int(batch["attention_mask"].sum())
        trained += int((batch["labels"][:, 1:] != -100).sum())
        batches += 1
    loop = clock.times[-1] - clock.times[0]
    steps = len(clock.times) - 1
    return {"wall": wall, "steps_per_s": steps / loop, "tokens_per_s": tokens / batches * steps / loop,
            "trained_per_step": trained / batches, "loss_first": clock.losses[0], "loss_last": clock.losses[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="s", help="tiny model size: xs, s or m")
    ap.add_argument("--n", type=int, default=64, help="synthetic samples")
    ap.add_argument("--image-size", type=int, default=112)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1: other processes on a shared CPU stall multi-threaded kernels)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        model_dir, data = build(tmp, args.size, args.n, args.image_size)
        rows = {"mmrl warmup-sft (padding)": run_mmrl(model_dir, data, str(tmp / "pad"), args, packing=False)}
        try:
            rows["TRL SFTTrainer (prompt-completion)"] = run_trl(model_dir, data, str(tmp / "trl"), args)
        except ImportError as e:
            print(f"TRL not available ({e}); pip install trl to compare", file=sys.stderr)
        rows["mmrl warmup-sft (packing)"] = run_mmrl(model_dir, data, str(tmp / "pack"), args, packing=True)
    load = os.getloadavg()
    print(f"\ntiny Qwen2.5-VL '{args.size}', {args.n} samples, {args.steps} steps of {args.batch_size}, "
          f"fp32 CPU ({args.threads} threads on {os.cpu_count()} cores, load {load[0]:.1f})\n")
    print("| trainer | run, s (load, data, train) | loop steps/s | loop tokens/s | trained tokens/step | "
          "loss step 1 | loss last |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['wall']:.1f} | {r['steps_per_s']:.2f} | {r['tokens_per_s']:,.0f} | {r['trained_per_step']:.0f} | "
              f"{r['loss_first']:.3f} | {r['loss_last']:.3f} |")


if __name__ == "__main__":
    main()
