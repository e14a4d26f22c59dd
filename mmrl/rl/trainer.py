"""``mmrl grpo``: online RL of a vision-language model on verifiable rewards, in one process.

One step, one function per stage (all in process, no files in between):

1. rollout + reward (``collect.Collector``): draw prompts, generate G responses per prompt with
   the rollout library (each prompt prefilled once for its group), score them with the reward
   pool (per-sample verifiers, dynamic IoU driven by training progress), keep the valid groups;
2. advantages (``advantages.ADVANTAGES``) from the group rewards;
3. old and reference log-probs (``update.frozen_logprobs``), skipped where they equal the
   current policy or beta is 0;
4. update (``update.ppo_update``): ``ppo_epochs`` passes of clipped policy loss
   (``losses.policy_loss``) over mini-batches of groups;
5. the rollout engine sees the new weights (the hf backend shares the model object; a colocated
   vLLM engine, ``--rollout-backend vllm``, is sent them before its next rollout: ``colocate``).

With ``--deepspeed`` (ZeRO-1/2/3, launched with ``torchrun`` or ``deepspeed``) every process
draws the same prompts, generates and scores its share, and all hold the gathered batch; each
then computes the log-probs and gradients of its share of every mini-batch, and the engine sums
the gradients over processes (``collect`` and ``update`` say how). Under ZeRO-3 the weights are
gathered once for each rollout.

The run writes ``OUT/metrics.jsonl`` every step, ``OUT/samples.jsonl`` every ``sample_steps``,
resumable checkpoints under ``OUT/checkpoints/`` and the final model in ``OUT``.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from mmrl.console import console, log, make_progress
from mmrl.errors import ConfigError
from mmrl.io.jsonl import JsonlWriter
from mmrl.io.metrics import write_json
from mmrl.io.paths import OutputFolder, check_outputs
from mmrl.model.loading import CHECKPOINT_FILES, LoraSpec, ModelSpec, load
from mmrl.rewards import RewardConfig, RewardScorer
from mmrl.rewards.scoring import override_notice, spec_overrides
from mmrl.rl.advantages import ADVANTAGES
from mmrl.rl.collect import Collected, Collector, make_group_filter
from mmrl.rl.config import GRPOConfig, parse_band
from mmrl.rl.data import load_samples
from mmrl.rl.groups import StepBatch, build_batch, overlong_penalty
from mmrl.rl.monitor import group_metrics
from mmrl.rl.sampling import CurriculumSampler, OversampleEMA, UniformSampler, difficulty_band
from mmrl.rl.update import backwards_per_update, frozen_logprobs, ppo_update, single_update
from mmrl.rollout.backends.hf import HFBackend
from mmrl.rollout.prompts import PromptBuilder, PromptConfig
from mmrl.rollout.types import SamplingParams
from mmrl.train.checkpoint import CHECKPOINTS
from mmrl.train.distributed import (
    DeepSpeedEngine,
    LocalEngine,
    OptimSpec,
    dist_info,
    fill_ds_config,
    init_process_group,
    load_ds_config,
)
from mmrl.train.metrics import MetricsLog, check_reporter, open_wandb
from mmrl.train.optim import warmup_steps_for
from mmrl.train.run import (
    METRICS_FILE,
    enable_checkpointing,
    StopRequest,
    prepare_out_dir,
    resume_point,
    save_checkpoint,
    save_trained,
    seed_everything,
)

RUN_FILE = "mmrl_grpo.json"
SAMPLES_FILE = "samples.jsonl"
# Everything a run writes (or deletes, with --overwrite) directly in its --out folder.
OUT_WRITES = (METRICS_FILE, SAMPLES_FILE, RUN_FILE, CHECKPOINTS, "tensorboard", "wandb", *CHECKPOINT_FILES)


@dataclass
class StepReport:
    """What ``train`` hands an ``on_step`` callback after each step (the metrics line)."""

    step: int
    metrics: dict[str, Any]
    batch: StepBatch | None


@dataclass
class RLResult:
    out_dir: str
    steps: int
    total_steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    skipped_updates: int = 0
    interrupted: str | None = None
    out_of_time: bool = False  # stopped before max_steps by max_seconds (the model is saved all the same)
    resumed_from: int | None = None
    seconds: float = 0.0
    model: Any = field(default=None, repr=False)


def reward_config(cfg: GRPOConfig) -> RewardConfig:
    return RewardConfig(verifier=cfg.verifier, weights=cfg.weights, params=dict(cfg.params),
                        format_mode=cfg.format_mode, format_gate=cfg.format_gate, timeout=cfg.reward_timeout,
                        workers=cfg.reward_workers, reward_spec=cfg.reward_spec)


def given_reward_settings(cfg: GRPOConfig) -> set[str]:
    """The reward settings the user or the algorithm chose (for the precedence notice)."""
    given = {f"param:{k}" for k in cfg.params}
    if cfg.weights is not None:
        given.add("weights")
    if cfg.verifier != "math":
        given.add("verifier")
    return given


def model_spec(cfg: GRPOConfig) -> ModelSpec:
    lora = LoraSpec.from_settings(cfg)
    # Under DeepSpeed full weights load in float32: its bf16 mode keeps fp32 master weights itself.
    dtype = "float32" if cfg.deepspeed and not cfg.lora else cfg.dtype
    return ModelSpec(cfg.model, dtype=dtype, device=cfg.device, lora=lora, freeze_vision=cfg.freeze_vision,
                     freeze_projector=cfg.freeze_projector, min_pixels=cfg.min_pixels, max_pixels=cfg.max_pixels)


def check_world(cfg: GRPOConfig, world: int) -> None:
    """Several processes need DeepSpeed and batches that split evenly over them."""
    if world == 1:
        return
    if not cfg.deepspeed:
        raise ConfigError(f"launched on {world} processes without --deepspeed CONFIG; "
                          "pass a ZeRO config such as recipes/deepspeed/zero2.json")
    for name, value in (("--batch-size", cfg.batch_size), ("--mini-batch-size", cfg.mini_batch)):
        if value % world:
            raise ConfigError(f"{name} ({value}) must be a multiple of the {world} processes: each trains an "
                              "equal share of every mini-batch")


def build_engine(cfg: GRPOConfig, model, optim: OptimSpec, info) -> LocalEngine | DeepSpeedEngine:
    """The training engine: this process alone, or DeepSpeed ZeRO with one backward per micro-batch
    of this process's share of a mini-batch and the update at the last one."""
    if not cfg.deepspeed:
        return LocalEngine(model, optim)
    share = cfg.mini_batch // info.world_size
    micro = min(cfg.micro_batch, share)
    config = load_ds_config(cfg.deepspeed)
    if cfg.micro_batch_rows and int(config.get("zero_optimization", {}).get("stage", 0)) == 3:
        # ZeRO-3 releases a layer's weights after its backward; the prompts' pass, whose backward
        # comes after the pieces', then gets wrong gradients (measured: the weights differ)
        raise ConfigError("--micro-batch-rows does not work with ZeRO-3 in this build; use ZeRO-2, "
                          "--micro-batch-size or --gradient-checkpointing")
    ds = fill_ds_config(config, optim, micro, backwards_per_update(cfg, share), info.world_size, cfg.dtype)
    return DeepSpeedEngine(model, optim, ds, info)


def sampling_params(cfg: GRPOConfig, step: int) -> SamplingParams:
    """The step's sampling: its own seed, so a resumed run draws exactly what the broken one would."""
    return SamplingParams(n=cfg.group_size, temperature=cfg.temperature, top_p=cfg.top_p, top_k=cfg.top_k,
                          max_new_tokens=cfg.max_new_tokens, seed=cfg.seed * 1_000_003 + step,
                          think_budget=cfg.think_budget, answer_budget=cfg.answer_budget)


def make_sampler(cfg: GRPOConfig, items: list) -> tuple[Any, list[int]]:
    """The prompt sampler over the items inside the offline difficulty band (all without a band)."""
    difficulties = [item.record.get("difficulty") for item in items]
    keep = list(range(len(items)))
    if cfg.difficulty_band is not None:
        lo, hi = parse_band(cfg.difficulty_band, "--difficulty-band")
        keep = difficulty_band(difficulties, lo, hi)
        if not keep:
            raise ConfigError(f"--difficulty-band {cfg.difficulty_band} keeps none of the {len(items)} samples "
                              "(is `difficulty` set? run `mmrl grade` first)")
    if cfg.sampler == "curriculum":
        return CurriculumSampler([difficulties[i] for i in keep], cfg.seed), keep
    return UniformSampler(len(keep), cfg.seed), keep


class _Subset:
    """A sampler over positions of ``keep`` that answers with indices of the whole data set."""

    def __init__(self, inner: Any, keep: list[int]):
        self.inner, self.keep = inner, keep
        self.position = {index: pos for pos, index in enumerate(keep)}

    def draw(self, k: int) -> list[int]:
        return [self.keep[i] for i in self.inner.draw(k)]

    def update(self, index: int, pass_rate: float) -> None:
        self.inner.update(self.position[index], pass_rate)

    def state_dict(self) -> dict[str, Any]:
        return self.inner.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.inner.load_state_dict(state)


def fingerprint(cfg: GRPOConfig, items: list) -> str:
    """What a resumed run must share with the interrupted one to continue its batches."""
    h = hashlib.sha256()
    for item in items:
        h.update(str(item.record["id"]).encode() + b"\0")
    h.update(json.dumps([cfg.batch_size, cfg.group_size, cfg.seed, cfg.sampler, cfg.difficulty_band, cfg.algo]).encode())
    return h.hexdigest()[:16]


class Reference:
    """Reference log-probs for the KL term: the base model with LoRA adapters switched off, or a
    frozen copy of the starting weights; nothing at all when beta is 0."""

    def __init__(self, cfg: GRPOConfig, policy):
        self.model, self.context = None, contextlib.nullcontext
        if not cfg.beta:
            return
        if cfg.lora:
            self.model, self.context = policy, policy.disable_adapter
        else:
            spec = model_spec(cfg)
            spec.lora, spec.freeze_vision, spec.freeze_projector = None, False, False
            self.model = load(spec).model.eval().requires_grad_(False)

    @property
    def active(self) -> bool:
        return self.model is not None


def row_rewards(cfg: GRPOConfig, collected: Collected) -> list[float]:
    """Each response's reward: the verifier total, plus DAPO's soft overlong penalty if set."""
    out = []
    for g in collected.groups:
        for comp, record in zip(g.completions, g.records):
            penalty = overlong_penalty(comp.num_tokens, cfg.max_new_tokens, cfg.overlong_buffer, cfg.overlong_penalty)
            out.append(float(record["rewards"]["total"]) + penalty)
    return out


def write_samples(writer: JsonlWriter, step: int, collected: Collected, k: int = 4) -> dict[str, Any] | None:
    """Keep the first response of the first ``k`` groups (prompt id, response, rewards)."""
    first = None
    for g in collected.all_groups[:k]:
        record = g.records[0]
        row = {"step": step, "id": record["id"], "source": g.source, "response": record["response"],
               "rewards": record["rewards"], "finish_reason": record["finish_reason"]}
        writer.write(row)
        first = first or row
    return first


def evaluate(collector: Collector, indices: list[int], cfg: GRPOConfig, step: int) -> dict[str, float]:
    """Greedy answers on the eval set, scored by the same verifiers: ``eval/...`` metrics."""
    params = SamplingParams(n=1, temperature=0.0, max_new_tokens=cfg.eval_max_new_tokens or cfg.max_new_tokens)
    groups = []
    for start in range(0, len(indices), max(1, cfg.rollout_batch_rows)):
        chunk = collector.generate(indices[start:start + cfg.rollout_batch_rows], params)
        collector.score(chunk, progress=min(1.0, step / cfg.max_steps))
        groups += chunk
    return group_metrics(groups, prefix="eval/")


def train(cfg: GRPOConfig, on_step: Callable[[StepReport], None] | None = None,
          step_metrics: Callable[[list], dict[str, float]] | None = None) -> RLResult:
    """Run online RL as ``cfg`` says (see the module docstring); returns a summary.

    ``step_metrics`` (the demo's answer spread) is called with every group drawn in a step, valid or
    not, and what it returns joins that step's metrics line."""
    cfg = cfg.resolved()
    info = dist_info()
    check_world(cfg, info.world_size)
    check_outputs(inputs={"--data": cfg.data, "--eval-data": cfg.eval_data, "--model": cfg.model},
                  folders=[OutputFolder(cfg.out, OUT_WRITES, "--out")])
    check_reporter(cfg.report_to)
    rewards = reward_config(cfg)
    # every problem of the data before any model loads
    items = load_samples(cfg.data, rewards, split=cfg.split, columns=cfg.columns)
    eval_items = load_samples(cfg.eval_data, rewards, "--eval-data", columns=cfg.columns) if cfg.eval_data else []
    notice = override_notice(spec_overrides([i.record for i in items], rewards, given_reward_settings(cfg)), len(items))
    if notice and info.is_main:
        log.warning("grpo: %s", notice)
    if cfg.deepspeed:
        init_process_group(info)
    out = prepare_out_dir(cfg.out, cfg.resume, cfg.overwrite, info)
    if cfg.deepspeed:
        import torch.distributed as dist

        dist.barrier()  # every process has checked OUT before the main one starts writing there
    seed_everything(cfg.seed)

    loaded = load(model_spec(cfg))
    model = loaded.model
    if cfg.gradient_checkpointing:
        enable_checkpointing(model)
    engine = build_engine(cfg, model, OptimSpec(cfg.lr, cfg.weight_decay, max_grad_norm=cfg.max_grad_norm or None,
                                                scheduler=cfg.scheduler, total_steps=cfg.max_steps,
                                                warmup_steps=warmup_steps_for(cfg.max_steps, cfg.warmup_ratio)), info)
    reference = Reference(cfg, model)
    backend = HFBackend(loaded, max_batch_rows=cfg.rollout_batch_rows)  # encodes for the log-prob passes
    rollout = make_rollout(cfg, loaded, engine, backend)
    prompt_cfg = PromptConfig(system=cfg.system, cot_pool=cfg.cot_pool, pool_seed=cfg.seed,
                              max_prompt_length=cfg.max_prompt_length, min_pixels=cfg.min_pixels,
                              max_pixels=cfg.max_pixels,
                              **({"instruction": cfg.instruction or None} if cfg.instruction is not None else {}))
    builder = PromptBuilder(prompt_cfg, processor=loaded.processor, context_length=backend.context_length)
    inner, keep = make_sampler(cfg, items)
    sampler = _Subset(inner, keep)
    oversample = OversampleEMA() if cfg.oversample else None
    group_filter = make_group_filter(cfg.group_filter, parse_band(cfg.accuracy_band, "--accuracy-band"))
    pad_id = loaded.tokenizer.pad_token_id if loaded.tokenizer.pad_token_id is not None else 0
    print_fp = fingerprint(cfg, items)

    resumed = resume_point(out, engine, {"fingerprint": print_fp, "total_steps": cfg.max_steps}) \
        if cfg.resume else None
    start = resumed.step if resumed else 0
    elapsed_before = resumed.elapsed if resumed else 0.0
    skipped = 0
    if resumed is not None and resumed.state is not None:
        sampler.load_state_dict(resumed.state["sampler"])
        if oversample is not None and resumed.state.get("oversample"):
            oversample.load_state_dict(resumed.state["oversample"])
        skipped = int(resumed.state.get("skipped_updates", 0))

    main = info.is_main
    wandb_run = open_wandb(out, cfg.to_dict(), cfg.resume) if cfg.report_to == "wandb" and main else None
    metrics = MetricsLog(out / METRICS_FILE, resume_step=start if cfg.resume else None,
                         tensorboard_dir=out / "tensorboard" if cfg.report_to == "tensorboard" else None,
                         wandb_run=wandb_run) if main else _Nowhere()
    samples = JsonlWriter(out / SAMPLES_FILE, mode="append", keep_existing=cfg.resume) if main else _Nowhere()
    result = RLResult(str(out), start, cfg.max_steps, skipped_updates=skipped,
                      resumed_from=resumed.resumed_from if resumed else None)
    console.print(f"grpo ({cfg.algo}): {len(keep)} of {len(items)} prompts, {cfg.batch_size} x G={cfg.group_size} "
                  f"per step, {cfg.max_steps} steps, advantage {cfg.advantage}, loss {cfg.loss_agg}, "
                  f"clip {cfg.clip_low}/{cfg.clip_high}, beta {cfg.beta}"
                  + (f"; resuming at step {start}" if start else ""))

    def save(step: int, elapsed: float) -> None:
        state = {"step": step, "total_steps": cfg.max_steps, "time": elapsed, "fingerprint": print_fp,
                 "sampler": sampler.state_dict(), "skipped_updates": result.skipped_updates,
                 "oversample": oversample.state_dict() if oversample is not None else None}
        save_checkpoint(engine, out, step, state, cfg.save_total_limit)

    def skip(reason: str) -> None:
        result.skipped_updates += 1
        log.warning("step %d: update skipped (%s); %d skipped so far", step + 1, reason, result.skipped_updates)

    with RewardScorer(rewards) as scorer, StopRequest() as stop:
        comm = engine if info.world_size > 1 else None
        collector = Collector(items, builder, rollout, scorer, sampler, group_filter, oversample, cfg.max_refill,
                              cfg.model, comm)
        eval_collector = Collector(eval_items, builder, rollout, scorer, sampler, group_filter, None, 0, cfg.model)
        from rich.progress import TextColumn

        progress_bar = make_progress(TextColumn("reward {task.fields[reward]:.3f}"),
                                     TextColumn("acc {task.fields[acc]:.3f}"), TextColumn("kl {task.fields[kl]:.4f}"),
                                     TextColumn("{task.fields[speed]:.1f} s/step"), enabled=main)
        t0 = time.perf_counter()
        try:
            with progress_bar:
                task = progress_bar.add_task("grpo", total=cfg.max_steps, completed=start, reward=math.nan,
                                             acc=math.nan, kl=math.nan, speed=math.nan)
                step = start
                for step in range(start, cfg.max_steps):
                    row = run_step(cfg, step, collector, engine, backend, reference, pad_id, sampling_params(cfg, step),
                                   skip)
                    if row.get("updates") and hasattr(rollout, "mark_updated"):
                        rollout.mark_updated()  # a colocated engine gets the new weights before its next rollout
                    row["skipped_updates"] = result.skipped_updates
                    row["oversample_ratio"] = row.pop("_drawn") / cfg.batch_size
                    if oversample is not None:
                        row["oversample_expansion"] = oversample.expansion()
                    row["lr"] = engine.lr()
                    batch = row.pop("_batch")
                    collected = row.pop("_collected")
                    if step_metrics is not None:
                        row.update(step_metrics(collected.all_groups))
                    if cfg.sample_steps and (step % cfg.sample_steps == 0 or step + 1 == cfg.max_steps):
                        first = write_samples(samples, step + 1, collected)
                        if first is not None and main:
                            log.info("step %d sample [%s] reward %.3f: %s", step + 1, first["id"],
                                     first["rewards"]["total"], first["response"][:200].replace("\n", " "))
                    if eval_items and cfg.eval_steps and ((step + 1) % cfg.eval_steps == 0 or step + 1 == cfg.max_steps):
                        with engine.full_weights():
                            row.update(evaluate(eval_collector, list(range(len(eval_items))), cfg, step + 1))
                    elapsed = elapsed_before + time.perf_counter() - t0
                    logged = metrics.log(step + 1, elapsed, **row)
                    result.history.append(logged)
                    result.steps = step + 1
                    progress_bar.update(task, completed=step + 1, reward=row.get("reward/mean", math.nan),
                                        acc=row.get("accuracy/mean", math.nan), kl=row.get("kl", math.nan),
                                        speed=row.get("time/step", math.nan))
                    if on_step is not None:
                        on_step(StepReport(step + 1, logged, batch))
                    done = step + 1 == cfg.max_steps
                    if stop.requested or (cfg.save_steps and (step + 1) % cfg.save_steps == 0 and not done):
                        save(step + 1, elapsed)
                    late = out_of_time(cfg, step + 1 - start, elapsed - elapsed_before, elapsed)
                    if info.world_size > 1:  # every process stops after the same step
                        late = engine.all_reduce_sum(1.0 if late else 0.0) > 0
                    if not stop.requested and not done and late:
                        result.out_of_time = True
                        console.print(f"grpo: time budget of {cfg.max_seconds:g} s reached after step {step + 1}")
                        break
                    if stop.requested:
                        result.interrupted = stop.requested
                        console.print(f"grpo: stopped by {stop.requested} after step {step + 1}; "
                                      f"continue with --resume (checkpoint in {out / 'checkpoints'})")
                        break
        finally:
            metrics.close()
            samples.close()
    result.seconds = elapsed_before + time.perf_counter() - t0
    result.model = model
    if result.interrupted is None:
        save_final(engine, cfg, loaded.processor, out, result)
    if rollout is not backend:
        rollout.close()
    engine.close()
    return result


def out_of_time(cfg: GRPOConfig, steps_run: int, seconds_run: float, elapsed: float) -> bool:
    """True when one more step, at the mean pace of this run so far, would end past ``max_seconds``."""
    if cfg.max_seconds is None or steps_run < 1:
        return False
    return elapsed + seconds_run / steps_run > cfg.max_seconds


def make_rollout(cfg: GRPOConfig, loaded, engine, backend: HFBackend):
    """The generation engine: the hf backend itself (it shares the trained model, so it always
    samples from the current weights), or a vLLM engine colocated on the same GPUs that sleeps
    between rollouts and is sent the weights after each update (``mmrl.rl.colocate``)."""
    if cfg.rollout_backend == "hf":
        return backend
    from mmrl.rl.colocate import ColocatedRollout, named_weights
    from mmrl.rollout.backends.vllm import VLLMBackend

    llm = VLLMBackend(loaded, gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
                      dtype=cfg.dtype if cfg.dtype != "float32" else "auto",
                      **({"enable_sleep_mode": True} if cfg.vllm_sleep_level else {}))
    return ColocatedRollout(llm, lambda: named_weights(engine.module), sleep_level=cfg.vllm_sleep_level)


class _Nowhere:
    """Where the metrics and samples of processes other than the main one go."""

    def log(self, step: int, elapsed: float, **row: Any) -> dict[str, Any]:
        return {"step": step, "time": elapsed, **row}

    def write(self, row: dict[str, Any]) -> None:
        return None

    def close(self) -> None:
        return None


def save_final(engine, cfg: GRPOConfig, processor, out, result: RLResult) -> None:
    """The Hugging Face checkpoint of the trained model in OUT (ZeRO-3 weights gathered first)."""
    if not save_trained(engine, model_spec(cfg), processor, out, merge_lora=cfg.lora and cfg.merge_lora):
        return
    write_json(out / RUN_FILE, {"config": cfg.to_dict(), "steps": result.steps,
                                "skipped_updates": result.skipped_updates,
                                "final": result.history[-1] if result.history else None})
    console.print(f"grpo: {result.steps} steps in {result.seconds:.0f} s; model in {out}")


def run_step(cfg: GRPOConfig, step: int, collector: Collector, engine: LocalEngine, backend: HFBackend,
             reference: Reference, pad_id: int, params: SamplingParams, skip: Callable[[str], None]) -> dict[str, Any]:
    """One step: rollout + reward, advantages, old/reference log-probs, update. Returns its metrics."""
    t_start = time.perf_counter()
    # each prompt's image processed once this step (rollout, then log-prob passes), and its features
    # computed once when the vision tower is frozen
    backend.keep_encodings(vision_features=True)
    try:
        return _run_step(cfg, step, collector, engine, backend, reference, pad_id, params, skip, t_start)
    finally:
        backend.keep_encodings(False)


def _run_step(cfg, step, collector, engine, backend, reference, pad_id, params, skip, t_start) -> dict[str, Any]:
    import torch

    with engine.full_weights():  # ZeRO-3: every weight here for generation; nothing to do otherwise
        collected = collector.collect(cfg.batch_size, params, progress=min(1.0, step / cfg.max_steps))
    row: dict[str, Any] = {**group_metrics(collected.all_groups), "valid_group_frac": collected.valid_frac,
                           "groups_drawn": collected.drawn, "refill_rounds": collected.rounds - 1,
                           "_drawn": collected.drawn, "_collected": collected, "_batch": None}
    timing = {"time/rollout": collected.seconds["rollout"], "time/reward": collected.seconds["reward"]}
    if not collected.groups:
        skip("no valid group in this step")
        row.update(timing, **{"time/step": time.perf_counter() - t_start})
        return row
    batch = build_batch(collected.groups, row_rewards(cfg, collected), overlong_filter=cfg.overlong_filter)
    if not bool(torch.isfinite(batch.rewards).all()):
        skip("non-finite reward")
        row.update(timing, **{"time/step": time.perf_counter() - t_start})
        return row
    batch.advantages = ADVANTAGES.get(cfg.advantage)(batch.rewards, batch.group_ids)
    t_lp = time.perf_counter()
    if not single_update(cfg):
        batch.old_logp = frozen_logprobs(engine.model, backend.encode, batch, cfg.temperature, pad_id, cfg.micro_batch,
                                         engine=engine, piece_rows=cfg.micro_batch_rows)
    if reference.active:
        batch.ref_logp = frozen_logprobs(reference.model, backend.encode, batch, cfg.temperature, pad_id,
                                         cfg.micro_batch, reference.context, engine=engine,
                                         piece_rows=cfg.micro_batch_rows)
    t_up = time.perf_counter()
    engine.train()
    max_len = max(batch.loss_mask.shape[1], cfg.max_new_tokens)
    stats = ppo_update(engine, backend.encode, batch, cfg, pad_id, seed=cfg.seed * 1_000_003 + step, max_len=max_len,
                       on_skip=skip)
    t_end = time.perf_counter()
    tokens = sum(len(r) for r in batch.responses)
    row.update(stats.means())
    row.update(timing, **{"time/logprob": t_up - t_lp, "time/update": t_end - t_up, "time/step": t_end - t_start,
                          "tokens_per_s": tokens / max(t_end - t_start, 1e-9), "advantage/mean_abs":
                          float(batch.advantages.abs().mean()), "updates": stats.updates})
    row["_batch"] = batch
    return row
