"""Online RL speed: ``mmrl grpo`` beside TRL's ``GRPOTrainer``, same model, data, reward and settings.

Both train the same tiny random Qwen2.5-VL (or a random model of a real size with ``--model``)
from the same weights on the same synthetic samples, with the same prompt, reward function (mmrl's
verifiers, scored in process by both), group size, prompts per step, sampling (temperature 1,
top-p 1, no top-k), response length limit, loss (clip 0.2, token-mean, group-normalised
advantages, no KL) and optimizer (AdamW, constant lr, clipping at 1.0), one optimizer update per
step, no gradient checkpointing (TRL's default turns it on; it is off here because it only costs
time), float32 on the CPU with one torch thread each.

Every run of a framework is its own child process (so that its peak RSS is its own), and the
runs of the two frameworks alternate, repeat after repeat, in one launch of this script, so a
change in the machine's load hits both. Each run makes one warm-up step and ``--steps`` timed
steps; a cell's number is the median over its ``--repeats`` runs, with the range beside it. Wall
seconds per step are the headline; CPU seconds per step (the run's own process time, one thread)
are printed beside them because on a shared machine other jobs stretch wall time far more than
the work each framework does.

    pip install trl        # the peer, for this benchmark only (not an mmrl dependency)
    python benchmarks/grpo_vs_trl.py                       # the grid of BENCHMARKS.md
    python benchmarks/grpo_vs_trl.py --sizes s --image-tokens 64 --new-tokens 32 --repeats 5
    python benchmarks/grpo_vs_trl.py --sizes 3b --device cuda --dtype bfloat16   # random Qwen2.5-VL-3B
    python benchmarks/grpo_vs_trl.py --sizes s --new-tokens 32 --ablate prefix-train,prefix-rollout,image-reuse
    python benchmarks/grpo_vs_trl.py --sizes s --image-tokens 256 --new-tokens 32 --freeze-vision --ablate vision-reuse

Stages: ``rollout`` (generation), ``reward``, ``logprob`` (old/reference passes without gradients;
both frameworks skip them in this setting), ``update`` (the log-prob forward with gradients,
backward and optimizer step) and ``other`` (the rest of the step: batching, advantages,
bookkeeping). Without TRL installed the script says so and exits 2.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

STAGES = ("rollout", "reward", "logprob", "update", "other")


# --- the data, shared by both frameworks --------------------------------------------------------

def image_size_for(image_tokens: int, factor: int = 28) -> int:
    side = int(math.isqrt(image_tokens))
    if side * side != image_tokens:
        raise SystemExit(f"--image-tokens must be a square number, got {image_tokens}")
    return side * factor


def make_data(root: Path, image_tokens: int, n: int) -> str:
    """``n`` synthetic samples (every task, each with its verifier) whose image is ``image_tokens`` tokens."""
    from mmrl.data.synth import synthesize

    path = root / f"data-{image_tokens}" / "train.jsonl"
    if not path.exists():
        synthesize(path, task="mix", n=n, seed=0, image_size=image_size_for(image_tokens))
    return str(path)


def tiny_checkpoint(size: str, root: Path) -> str:
    from mmrl.model.tiny import init_tiny

    path = root / f"tiny-{size}"
    if not (path / "config.json").exists():
        if size == "3b":
            return random_3b(path)
        init_tiny(path, size=size, seed=0)
    return str(path)


def random_3b(path: Path) -> str:
    """A random-weight model with Qwen2.5-VL-3B-Instruct's architecture (its published config:
    36 layers of 2048, 16 heads, 2 KV heads, MLP 11008, vocabulary 151,936; a 32-block vision tower
    of 1280) in bfloat16, with the tiny models' tokenizer and processor: the real model's cost
    per token without a hub. About 7.5 GB on disk; meant for a GPU (``--sizes 3b --device cuda
    --dtype bfloat16``)."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from mmrl.model.tiny import SIZES, TinySize, build_config, build_tokenizer, init_tiny

    init_tiny(path, size="xs", seed=0)  # tokenizer, processor, chat template
    tokenizer = build_tokenizer(SIZES["xs"].vocab)
    config = build_config(TinySize(vocab=SIZES["xs"].vocab, hidden=2048, layers=36, heads=16, kv_heads=2,
                                   intermediate=11008, vision_depth=32, vision_hidden=1280, vision_heads=16),
                          tokenizer)
    config.text_config.vocab_size = 151936
    config.text_config.max_position_embeddings = 128000
    config.text_config.rope_parameters["rope_theta"] = 1000000.0
    config.vision_config.intermediate_size = 3420
    config.vision_config.fullatt_block_indexes = [7, 15, 23, 31]
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        torch.manual_seed(0)
        model = Qwen2_5_VLForConditionalGeneration(config)
    finally:
        torch.set_default_dtype(before)
    generation = Qwen2_5_VLForConditionalGeneration.from_pretrained(path).generation_config
    model.generation_config = generation
    model.save_pretrained(path)
    return str(path)


def reward_config():
    from mmrl.rewards import RewardConfig

    return RewardConfig(workers=0)  # in process, for both frameworks


# --- one run of one framework (in a child process) ----------------------------------------------

def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def device_peak_mb(device: str) -> float | None:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return None


# Levers switched off one at a time (--ablate), to measure what each gives.
ABLATIONS = {
    "prefix-train": "off: the log-prob pass with gradients over repeated prompts (each row prefilled alone)",
    "prefix-rollout": "off: generation over repeated prompts (each row prefilled alone)",
    "image-reuse": "off: the processor runs again for the log-prob pass",
    "vision-reuse": "off: with --freeze-vision, the frozen vision tower runs again in the log-prob pass",
}


def ablate(name: str) -> None:
    """Switch one of mmrl's levers off in this (child) process."""
    import mmrl.rl.update as update
    from mmrl.rollout.backends.hf import HFBackend

    if name == "prefix-train":
        def group_logprobs(model, encode, batch, groups, temperature, pad_id, entropy=False, **_):
            prompts = [batch.groups[g].prompt for g in groups for _ in range(batch.sizes[g])]
            rows = batch.rows_of(groups)
            out = update.shared_prefix_logprobs(model, encode(prompts), [batch.responses[r] for r in rows], 1,
                                                pad_id, temperature, entropy=entropy)
            return rows, [update._pad_to(t, batch.loss_mask.shape[1]) for t in out]

        update.group_logprobs = group_logprobs
    elif name == "prefix-rollout":
        import mmrl.model.prefix as prefix

        real = prefix.decode_shared

        def decode_repeated(model, inputs, n, step, max_steps):
            index = torch_repeat(inputs["input_ids"].shape[0], n)
            rows = {k: v[index] for k, v in inputs.items() if k in ("input_ids", "attention_mask", "mm_token_type_ids")}
            if "pixel_values" in inputs:  # every row's own copy of its prompt's images (one image per prompt)
                grid = inputs["image_grid_thw"]
                assert grid.shape[0] == inputs["input_ids"].shape[0], "one image per prompt"
                sizes = grid.prod(-1).tolist()
                import torch

                parts = torch.split(inputs["pixel_values"], sizes)
                rows["pixel_values"] = torch.cat([parts[i] for i in index.tolist()])
                rows["image_grid_thw"] = grid[index]
            return real(model, rows, 1, step, max_steps)

        def torch_repeat(batch, n):
            import torch

            return torch.arange(batch).repeat_interleave(n)

        prefix.decode_shared = decode_repeated  # the hf backend looks it up at each call
    elif name == "image-reuse":
        HFBackend.keep_encodings = lambda self, keep=True, vision_features=False: None
    elif name == "vision-reuse":
        import mmrl.rollout.backends.hf as hf

        hf.frozen_vision = lambda model: False
    elif name:
        raise SystemExit(f"unknown ablation {name!r}; known: {', '.join(ABLATIONS)}")


def run_mmrl(cell: dict) -> dict:
    from mmrl.rl.config import GRPOConfig
    from mmrl.rl.trainer import train

    ablate(cell.get("ablate", ""))

    marks, cpu, tokens, stages = [], [], [], []

    def on_step(report):
        marks.append(time.perf_counter())
        cpu.append(time.process_time())
        m = report.metrics
        tokens.append(sum(len(r) for r in report.batch.responses) if report.batch is not None else 0)
        step_s = m["time/step"]
        parts = {"rollout": m["time/rollout"], "reward": m["time/reward"], "logprob": m.get("time/logprob", 0.0),
                 "update": m.get("time/update", 0.0)}
        parts["other"] = max(0.0, step_s - sum(parts.values()))
        stages.append(parts)

    with tempfile.TemporaryDirectory() as out:
        cfg = GRPOConfig.from_flags(model=cell["model"], data=cell["data"], out=str(Path(out) / "run"), algo="grpo",
                         group_size=cell["n"], batch_size=cell["prompts"], max_steps=1 + cell["steps"],
                         max_new_tokens=cell["new_tokens"], temperature=1.0, top_p=1.0, top_k=0, lr=1e-6,
                         scheduler="constant", max_grad_norm=1.0, beta=0.0, clip_low=0.2, clip_high=0.2,
                         loss_agg="token-mean", advantage="grpo", reward_workers=0, sample_steps=10**6,
                         device=cell["device"], dtype=cell["dtype"], seed=0, overwrite=True,
                         rollout_batch_rows=cell["prompts"] * cell["n"], freeze_vision=cell["freeze_vision"],
                         freeze_projector=cell["freeze_vision"])
        start, cpu0 = time.perf_counter(), time.process_time()
        train(cfg, on_step=on_step)
    return summarise([start, *marks], [cpu0, *cpu], tokens, stages, cell)


def run_trl(cell: dict) -> dict:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from mmrl.io.jsonl import iter_located
    from mmrl.model.loading import ModelSpec, load
    from mmrl.rewards import RewardScorer
    from mmrl.rollout.prompts import PromptBuilder, PromptConfig
    from mmrl.rollout.records import rollout_record
    from mmrl.rollout.types import Completion

    torch.manual_seed(0)
    loaded = load(ModelSpec(cell["model"], dtype=cell["dtype"], device=cell["device"],
                            freeze_vision=cell["freeze_vision"], freeze_projector=cell["freeze_vision"]))
    builder = PromptBuilder(PromptConfig(), processor=loaded.processor)  # the prompt mmrl builds
    rows = []
    for item in iter_located(cell["data"]):
        p = builder.build(item)
        rows.append({"prompt": p.messages, "images": p.images, "sample": json.dumps(p.sample)})
    dataset = Dataset.from_list(rows)
    scorer = RewardScorer(reward_config())
    scorer.__enter__()
    eos = set(loaded.model.generation_config.eos_token_id or [])

    def mmrl_reward(prompts, completions, completion_ids, sample, **kwargs):
        records = []
        for j, (comp, ids, s) in enumerate(zip(completions, completion_ids, sample)):
            text = comp[-1]["content"] if isinstance(comp, list) else comp
            reason = "stop" if ids and ids[-1] in eos else "length"
            c = Completion(text=text, token_ids=list(ids), finish_reason=reason, num_tokens=len(ids))
            records.append(rollout_record(json.loads(s), j, c, "bench"))
        return [float(r["rewards"]["total"]) for r in scorer.score(records, progress=0.0)]

    clock = {"rollout": 0.0, "reward": 0.0, "logprob": 0.0, "prepare": 0.0}

    class Clock(TrainerCallback):
        def __init__(self):
            self.marks, self.cpu, self.stages, self.tokens = [], [], [], []

        def on_step_begin(self, args, state, control, **kw):
            for k in clock:
                clock[k] = 0.0
            self.begin = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            now = time.perf_counter()
            self.marks.append(now)
            self.cpu.append(time.process_time())
            step_s = now - self.begin
            parts = {k: clock[k] for k in ("rollout", "reward", "logprob")}
            parts["update"] = step_s - clock["prepare"]  # log-prob forward with grad, backward, optimizer
            parts["other"] = max(0.0, clock["prepare"] - sum(parts[k] for k in ("rollout", "reward", "logprob")))
            self.stages.append(parts)
            self.tokens.append(trainer._mmrl_tokens)

    cfg = GRPOConfig.from_flags(
        output_dir=cell["tmp"], per_device_train_batch_size=cell["prompts"] * cell["n"], num_generations=cell["n"],
        gradient_accumulation_steps=1, steps_per_generation=1, num_iterations=1, max_completion_length=cell["new_tokens"],
        temperature=1.0, top_p=1.0, top_k=0, beta=0.0, epsilon=0.2, loss_type="dapo", scale_rewards="group",
        learning_rate=1e-6, lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, max_grad_norm=1.0,
        max_steps=1 + cell["steps"], logging_steps=1, report_to=[], save_strategy="no", seed=0,
        use_cpu=not cell["device"].startswith("cuda"), bf16=cell["dtype"] == "bfloat16", fp16=False,
        gradient_checkpointing=False, dataloader_num_workers=0, disable_tqdm=True, log_completions=False,
        remove_unused_columns=False,
    )
    clock_cb = Clock()
    trainer = GRPOTrainer(model=loaded.model, args=cfg, reward_funcs=[mmrl_reward], train_dataset=dataset,
                          processing_class=loaded.processor, callbacks=[clock_cb])
    trainer._mmrl_tokens = 0

    def timed(name, fn, key):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock[key] += time.perf_counter() - t0
        setattr(trainer, name, wrapper)

    gen = trainer._generate_single_turn

    def generate(*a, **k):
        t0 = time.perf_counter()
        completion_ids, logprobs = gen(*a, **k)
        clock["rollout"] += time.perf_counter() - t0
        trainer._mmrl_tokens = sum(len(c) for c in completion_ids)
        return completion_ids, logprobs

    trainer._generate_single_turn = generate
    timed("_calculate_rewards", trainer._calculate_rewards, "reward")
    timed("_generate_and_score_completions", trainer._generate_and_score_completions, "prepare")
    logps = trainer._get_per_token_logps_and_entropies

    def frozen_logps(*a, **k):  # only the passes without gradients (old/reference) count as "logprob"
        t0 = time.perf_counter()
        try:
            return logps(*a, **k)
        finally:
            if not torch.is_grad_enabled():
                clock["logprob"] += time.perf_counter() - t0

    trainer._get_per_token_logps_and_entropies = frozen_logps
    start, cpu0 = time.perf_counter(), time.process_time()
    trainer.train()
    scorer.__exit__(None, None, None)
    return summarise([start, *clock_cb.marks], [cpu0, *clock_cb.cpu], clock_cb.tokens, clock_cb.stages, cell)


def summarise(marks: list[float], cpu: list[float], tokens: list[int], stages: list[dict], cell: dict) -> dict:
    """Seconds per timed step (the first step is the warm-up), its CPU seconds (the process's own work,
    which other jobs on a shared machine change much less than wall time), tokens, stage means, peak memory."""
    steps = [b - a for a, b in zip(marks[1:], marks[2:])]  # step 2 onwards
    if not steps:
        raise RuntimeError("no timed step: --steps must be at least 1")
    timed = stages[1:]
    return {"s_per_step": sum(steps) / len(steps), "cpu_s_per_step": (cpu[-1] - cpu[1]) / len(steps),
            "tokens_per_step": sum(tokens[1:]) / len(steps),
            "stages": {k: sum(s[k] for s in timed) / len(timed) for k in STAGES},
            "peak_rss_mb": peak_rss_mb(), "device_peak_mb": device_peak_mb(cell["device"])}


def child(spec: str) -> None:
    cell = json.loads(spec)
    import torch

    torch.set_num_threads(cell["threads"])
    with tempfile.TemporaryDirectory() as tmp:
        cell["tmp"] = tmp
        result = run_mmrl(cell) if cell["framework"] == "mmrl" else run_trl(cell)
    print("RESULT " + json.dumps(result), flush=True)


def launch(cell: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(cell["threads"]), "MKL_NUM_THREADS": str(cell["threads"])}
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(cell)], env=env, capture_output=True,
                       text=True)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{cell['framework']} run failed (exit {r.returncode}):\n{r.stderr[-4000:]}")


# --- the grid -----------------------------------------------------------------------------------

def spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def run_cell(base: dict, args) -> dict:
    runs: dict[str, list[dict]] = {name: [] for name in frameworks(args)}
    loads = []
    for r in range(args.repeats):
        order = list(runs) if r % 2 == 0 else list(reversed(runs))  # none always goes first
        for fw in order:
            loads.append(os.getloadavg()[0])
            name, _, ablation = fw.partition(":")
            runs[fw].append(launch({**base, "framework": name, "ablate": ablation}))
    samples = base["prompts"] * base["n"]
    row = {k: base[k] for k in ("size", "image_tokens", "new_tokens", "n", "prompts", "steps", "device", "dtype",
                                "freeze_vision")}
    row["repeats"] = args.repeats
    row["load_avg"] = [round(min(loads), 2), round(max(loads), 2)]
    for fw, rs in runs.items():
        s = [x["s_per_step"] for x in rs]
        med, lo, hi = spread(s)
        row[f"{fw}_s_per_step"] = med
        row[f"{fw}_s_per_step_range"] = [lo, hi]
        row[f"{fw}_samples_per_s"] = samples / med
        c = [x["cpu_s_per_step"] for x in rs]
        row[f"{fw}_cpu_s_per_step"] = statistics.median(c)
        row[f"{fw}_cpu_s_per_step_range"] = [min(c), max(c)]
        row[f"{fw}_tokens_per_s"] = statistics.median([x["tokens_per_step"] / x["s_per_step"] for x in rs])
        row[f"{fw}_peak_rss_mb"] = statistics.median([x["peak_rss_mb"] for x in rs])
        row[f"{fw}_peak_rss_mb_range"] = [min(x["peak_rss_mb"] for x in rs), max(x["peak_rss_mb"] for x in rs)]
        if rs[0]["device_peak_mb"] is not None:
            row[f"{fw}_device_peak_mb"] = statistics.median([x["device_peak_mb"] for x in rs])
        row[f"{fw}_stages"] = {k: statistics.median([x["stages"][k] for x in rs]) for k in STAGES}
    row["speedup"] = row["trl_s_per_step"] / row["mmrl_s_per_step"]
    row["cpu_speedup"] = row["trl_cpu_s_per_step"] / row["mmrl_cpu_s_per_step"]
    row["speedup_range"] = [min(a["s_per_step"] for a in runs["trl"]) / max(b["s_per_step"] for b in runs["mmrl"]),
                            max(a["s_per_step"] for a in runs["trl"]) / min(b["s_per_step"] for b in runs["mmrl"])]
    return row


def frameworks(args) -> list[str]:
    """mmrl, TRL, then mmrl with each ``--ablate`` lever switched off."""
    return ["mmrl", "trl"] + [f"mmrl:{a}" for a in args.ablate]


NAMES = {"mmrl": "mmrl grpo", "trl": "TRL GRPOTrainer"}


def print_header() -> None:
    print("| size | img tok | new tok | framework | s/step (range) | CPU s/step (range) | samples/s | tokens/s | "
          "peak RSS MB | rollout | reward | logprob | update | other |")
    print("|---|---:|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def print_row(row: dict, args) -> None:
    for fw in frameworks(args):
        name = NAMES.get(fw) or f"mmrl without {fw.partition(':')[2]}"
        lo, hi = row[f"{fw}_s_per_step_range"]
        st = row[f"{fw}_stages"]
        clo, chi = row[f"{fw}_cpu_s_per_step_range"]
        print(f"| {row['size']} | {row['image_tokens']} | {row['new_tokens']} | {name} | "
              f"{row[f'{fw}_s_per_step']:.3f} ({lo:.3f}–{hi:.3f}) | "
              f"{row[f'{fw}_cpu_s_per_step']:.3f} ({clo:.3f}–{chi:.3f}) | {row[f'{fw}_samples_per_s']:.2f} | "
              f"{row[f'{fw}_tokens_per_s']:,.0f} | {row[f'{fw}_peak_rss_mb']:,.0f} | "
              + " | ".join(f"{st[k]:.3f}" for k in STAGES) + " |")
    lo, hi = row["speedup_range"]
    print(f"|  |  |  | **mmrl / TRL samples/s** | **{row['speedup']:.2f}x** ({lo:.2f}–{hi:.2f}x) | "
          f"**{row['cpu_speedup']:.2f}x** | | | load {row['load_avg'][0]:.1f}–{row['load_avg'][1]:.1f} | | | | | |",
          flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="s,m", help="tiny model sizes (xs, s, m), or 3b: random weights in "
                    "Qwen2.5-VL-3B's architecture (a GPU run: --sizes 3b --device cuda --dtype bfloat16)")
    ap.add_argument("--model", default=None, help="a checkpoint folder instead of tiny models (e.g. a random 3B)")
    ap.add_argument("--image-tokens", default="64,256", help="image tokens per prompt (square numbers)")
    ap.add_argument("--new-tokens", default="32,128", help="most tokens drawn per response")
    ap.add_argument("--n", type=int, default=8, help="group size G: responses per prompt")
    ap.add_argument("--prompts", type=int, default=2, help="prompts per step")
    ap.add_argument("--steps", type=int, default=3, help="timed steps per run (after one warm-up step)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each framework per cell, interleaved")
    ap.add_argument("--samples", type=int, default=32, help="synthetic samples in the training set")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per run")
    ap.add_argument("--freeze-vision", action="store_true",
                    help="both frameworks train with the vision tower and projector frozen")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--json", default=None, help="also write one object per cell here")
    ap.add_argument("--ablate", default="", help="also run mmrl with these levers off (comma-separated): "
                    + "; ".join(f"{k}: {v}" for k, v in ABLATIONS.items()))
    args = ap.parse_args()
    args.ablate = [a for a in args.ablate.split(",") if a]
    for a in args.ablate:
        if a not in ABLATIONS:
            raise SystemExit(f"unknown --ablate {a!r}; known: {', '.join(ABLATIONS)}")
    if args.child is not None:
        child(args.child)
        return
    try:
        import trl
    except ImportError:
        print("TRL is not installed: it is the peer of this benchmark, not an mmrl dependency; "
              "pip install trl", file=sys.stderr)
        raise SystemExit(2)
    import torch
    import transformers

    image_tokens = [int(x) for x in args.image_tokens.split(",")]
    new_tokens = [int(x) for x in args.new_tokens.split(",")]
    print(f"mmrl vs TRL {trl.__version__} (transformers {transformers.__version__}, torch {torch.__version__}), "
          f"{args.device} {args.dtype}, {args.threads} thread(s) per run on {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}; {args.prompts} prompts x G={args.n} per step, "
          f"{args.steps} timed steps per run, median of {args.repeats} interleaved runs (range)\n")
    print_header()
    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        models = [(Path(args.model).name, args.model)] if args.model else \
            [(size, tiny_checkpoint(size, tmp)) for size in args.sizes.split(",")]
        for label, model in models:
            for img in image_tokens:
                data = make_data(tmp, img, args.samples)
                for new in new_tokens:
                    base = {"size": label, "model": model, "data": data, "image_tokens": img, "new_tokens": new,
                            "n": args.n, "prompts": args.prompts, "steps": args.steps, "threads": args.threads,
                            "device": args.device, "dtype": args.dtype, "freeze_vision": args.freeze_vision}
                    rows.append(run_cell(base, args))
                    print_row(rows[-1], args)
                    if args.json:
                        Path(args.json).write_text(json.dumps(rows, indent=2))
    print(f"\nload after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
