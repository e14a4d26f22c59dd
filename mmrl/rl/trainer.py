"""``mmrl grpo``: online RL of a vision-language model on verifiable rewards.

``train`` reads top to bottom as the algorithm; each step (``run_step``) is one function per stage:

1. rollout + reward (``collect.Collector``): draw prompts, generate G responses per prompt with
   the rollout library (each prompt prefilled once for its group), score them with the reward
   pool (per-sample verifiers, dynamic IoU driven by training progress), keep the valid groups;
2. old and reference log-probs (``update.frozen_logprobs``), skipped where they equal the
   current policy or no KL is trained or monitored;
3. advantages (``advantages.compute_advantages``) from the group rewards (less each response's
   KL penalty with ``--kl-in-reward``);
4. update (``update.ppo_update``): ``ppo_epochs`` passes of clipped policy loss
   (``losses.policy_loss``) over mini-batches of groups;
5. the rollout engine sees the new weights (the hf backend shares the model object; a colocated
   vLLM engine, ``--rollout-backend vllm``, is sent them before its next rollout: ``colocate``).

Everything around the steps (output folder, processes, resume, metrics, progress, checkpoints,
stop requests, the time budget, the final save) is ``mmrl.train.TrainingRun``'s, shared with SFT.

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
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mmrl.console import console, log
from mmrl.errors import ConfigError
from mmrl.io.jsonl import JsonlWriter
from mmrl.io.paths import OutputFolder, check_outputs
from mmrl.model.encoding import PromptEncoder, context_length
from mmrl.model.loading import CHECKPOINT_FILES, ModelSpec, enable_checkpointing, load
from mmrl.rewards import RewardScorer
from mmrl.rewards.scoring import override_notice, spec_overrides
from mmrl.rl.advantages import compute_advantages
from mmrl.rl.collect import Collected, Collector, make_group_filter
from mmrl.rl.config import GRPOConfig, parse_band
from mmrl.rl.data import load_samples
from mmrl.rl.groups import StepBatch, build_batch, overlong_penalty
from mmrl.rl.kl import kl_in_reward
from mmrl.rl.monitor import group_metrics, mechanism_metrics
from mmrl.rl.prompt_sampling import CurriculumSampler, OversampleEMA, UniformSampler, difficulty_band
from mmrl.rl.update import backwards_per_update, frozen_logprobs, ppo_update
from mmrl.rollout.backends.hf import HFBackend
from mmrl.rollout.forced import response_budget
from mmrl.rollout.prompts import PromptBuilder, templated_text
from mmrl.rollout.types import SamplingParams
from mmrl.train.checkpoint import CHECKPOINTS
from mmrl.train.distributed import DeepSpeedEngine, LocalEngine, fill_ds_config, load_ds_config
from mmrl.train.metrics_log import cut_to_step
from mmrl.train.outputs import METRICS_FILE, RunError
from mmrl.train.training_run import RunResult, Step, StepReport, TrainingRun, fingerprint

RUN_FILE = "mmrl_grpo.json"
SAMPLES_FILE = "samples.jsonl"
# Everything a run writes (or deletes, with --overwrite) directly in its --out folder.
OUT_WRITES = (METRICS_FILE, SAMPLES_FILE, RUN_FILE, CHECKPOINTS, "tensorboard", "wandb", *CHECKPOINT_FILES)
# What the progress line shows: label -> metric.
SHOWN = {"reward": "reward/mean", "acc": "accuracy/mean", "kl": "kl", "s/step": "time/step"}


def train(cfg: GRPOConfig, on_step: Callable[[StepReport], None] | None = None,
          step_metrics: Callable[[list], dict[str, float]] | None = None) -> RunResult:
    """Run online RL as ``cfg`` says (see the module docstring); returns what the run did.

    ``step_metrics`` is called with every group drawn in a step, valid or not, and what it returns
    joins that step's metrics line (the demo's answer spread)."""
    run = TrainingRun("grpo", cfg.run, OUT_WRITES, config=cfg.to_dict(), report_to=cfg.run.report_to,
                      max_seconds=cfg.run.max_seconds, shown=SHOWN)
    check_world(cfg, run.info.world_size)
    check_outputs(inputs={"--data": cfg.data.data, "--eval-data": cfg.eval.eval_data, "--model": cfg.model.name_or_path},
                  folders=[OutputFolder(cfg.run.out, OUT_WRITES, "--out")])
    items, eval_items = load_data(cfg, run.is_main)  # every problem of the data before any model loads
    out = run.start()
    policy = Policy(cfg, run.info)
    sampler, oversample = make_sampler(cfg, items), make_oversample(cfg)
    print_fp = run_fingerprint(cfg, items)
    counters = Counters.restore(run.resume(policy.engine, {"fingerprint": print_fp,
                                                           "total_steps": cfg.run.max_steps}), sampler, oversample)
    samples = SampleLog(out, cfg, run.start_step, run.is_main)
    announce(cfg, items, sampler, run.start_step)
    with RewardScorer(cfg.reward) as scorer, samples:
        comm = policy.engine if run.info.world_size > 1 else None
        collector = Collector(items, policy.builder, policy.rollout, scorer, sampler, make_filter(cfg), oversample,
                              cfg.selection.max_refill, cfg.model.name_or_path, comm)
        evaluator = Collector(eval_items, policy.builder, policy.rollout, scorer, sampler, make_filter(cfg), None, 0,
                              cfg.model.name_or_path)
        stepper = RLStep(cfg, policy, collector, evaluator, samples, counters, step_metrics)
        result = run.loop(policy.engine, cfg.run.max_steps, stepper, counters.state, on_step,
                          base={"fingerprint": print_fp})
    result.skipped_updates = counters.skipped
    run.finish(policy.engine, policy.spec, policy.processor, result,
               {"skipped_updates": counters.skipped, "final": result.history[-1] if result.history else None},
               RUN_FILE)
    policy.close_rollout()
    if result.interrupted is None:
        console.print(f"grpo: {result.steps} steps in {result.seconds:.0f} s; model in {out}")
    return result


def load_data(cfg: GRPOConfig, main: bool) -> tuple[list, list]:
    """The training and eval samples, checked in full; a notice where samples' own reward specs win."""
    items = load_samples(cfg.data.data, cfg.reward, split=cfg.data.split, columns=cfg.data.columns)
    eval_items = load_samples(cfg.eval.eval_data, cfg.reward, "--eval-data", split=cfg.eval.eval_split,
                              columns=cfg.data.columns) \
        if cfg.eval.eval_data else []
    notice = override_notice(spec_overrides([i.record for i in items], cfg.reward, given_reward_settings(cfg)),
                             len(items))
    if notice and main:
        log.warning("grpo: %s", notice)
    if cfg.selection.difficulty_band is not None:
        check_graded(items, cfg.selection.difficulty_band, cfg.selection.allow_ungraded, main)
    return items, eval_items


def given_reward_settings(cfg: GRPOConfig) -> set[str]:
    """The reward settings the user or the algorithm chose (for the precedence notice)."""
    given = {f"param:{k}" for k in cfg.reward.params}
    if cfg.reward.weights is not None:
        given.add("weights")
    if cfg.reward.verifier != "math":
        given.add("verifier")
    return given


def check_world(cfg: GRPOConfig, world: int) -> None:
    """Several processes need batches that split evenly over them."""
    for name, value in (("--batch-size", cfg.batch.batch_size), ("--mini-batch-size", cfg.batch.mini_batch)):
        if world > 1 and value % world:
            raise ConfigError(f"{name} ({value}) must be a multiple of the {world} processes: each trains an "
                              "equal share of every mini-batch")


class Policy:
    """The model being trained and what serves it: the training engine, the frozen reference, the
    prompt encoder for the log-prob passes and the rollout engine."""

    def __init__(self, cfg: GRPOConfig, info):
        self.spec = policy_spec(cfg)
        loaded = load(self.spec)
        without_dropout(loaded.model)
        if cfg.run.gradient_checkpointing:
            enable_checkpointing(loaded.model)
        self.processor, self.model = loaded.processor, loaded.model
        # the schedule steps once per optimizer update, so it spans every update of the run
        optim = cfg.optim.for_updates(cfg.run.max_steps * cfg.updates_per_step)
        self.engine = build_engine(cfg, loaded.model, optim, info)
        self.reference = Reference(cfg, loaded.model)
        # the policy's prompt encoder: the log-prob passes use it, and the hf rollout shares what it keeps
        self.encoder = PromptEncoder(loaded, lambda prompt: templated_text(prompt, loaded.processor))
        self.rollout = make_rollout(cfg, loaded, self.engine, self.encoder)
        self.builder = PromptBuilder(cfg.prompt, processor=loaded.processor, context_length=context_length(loaded.model))
        tokenizer = loaded.tokenizer
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # the longest response a row can be (forced rows: think budget, forced text, answer budget),
        # Dr.GRPO's constant divisor
        forced = tokenizer.encode(cfg.sampling.forced_text, add_special_tokens=False) if cfg.sampling.forcing else []
        self.response_budget = response_budget(cfg.sampling, len(forced))

    def close_rollout(self) -> None:
        self.rollout.close()


def without_dropout(model) -> None:
    """Dropout off (p = 0) in every dropout layer, LoRA's included: the frozen log-prob passes run
    in eval mode and the update in train mode, and dropout in one but not the other would read as
    a policy change in the ratio (TRL's ``disable_dropout`` does the same)."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def policy_spec(cfg: GRPOConfig) -> ModelSpec:
    """The model as loaded for training: under DeepSpeed full weights load in float32 (its bf16
    mode keeps fp32 master weights itself)."""
    if cfg.run.deepspeed and not cfg.model.lora:
        return replace(cfg.model, dtype="float32")
    return cfg.model


def build_engine(cfg: GRPOConfig, model, optim, info) -> LocalEngine | DeepSpeedEngine:
    """The training engine: this process alone, or DeepSpeed ZeRO with one backward per micro-batch
    of this process's share of a mini-batch and the update at the last one."""
    if not cfg.run.deepspeed:
        return LocalEngine(model, optim)
    share = cfg.batch.mini_batch // info.world_size
    micro = min(cfg.batch.micro_batch, share)
    config = load_ds_config(cfg.run.deepspeed)
    if cfg.batch.micro_batch_rows and int(config.get("zero_optimization", {}).get("stage", 0)) == 3:
        # ZeRO-3 releases a layer's weights after its backward; the prompts' pass, whose backward
        # comes after the pieces', then gets wrong gradients (measured: the weights differ)
        raise ConfigError("--micro-batch-rows does not work with ZeRO-3 in this build; use ZeRO-2, "
                          "--micro-batch-size or --gradient-checkpointing")
    ds = fill_ds_config(config, optim, micro, backwards_per_update(cfg, share), info.world_size, cfg.model.dtype)
    return DeepSpeedEngine(model, optim, ds, info)


def make_rollout(cfg: GRPOConfig, loaded, engine, encoder: PromptEncoder):
    """The generation engine: the hf backend (it shares the trained model, so it always samples
    from the current weights, and the policy's encoder), or a vLLM engine colocated on the same
    GPUs that sleeps between rollouts and is sent the weights before its first rollout and after each
    update (``mmrl.rl.colocate``)."""
    if cfg.rollout.backend == "hf":
        return HFBackend(loaded, max_batch_rows=cfg.rollout.batch_rows, encoder=encoder)
    from mmrl.rl.colocate import ColocatedRollout, named_weights
    from mmrl.rollout.backends.vllm import VLLMBackend

    # colocated: in this process (each rank on its own LOCAL_RANK device), sized for the prompt
    # limit plus the longest response the run's sampling allows, asleep between rollouts
    llm = VLLMBackend(loaded, gpu_memory_utilization=cfg.rollout.vllm_gpu_memory_utilization,
                      dtype=cfg.model.dtype if cfg.model.dtype != "float32" else "auto", colocate=True,
                      sleep_level=cfg.rollout.vllm_sleep_level, max_prompt_length=cfg.prompt.max_prompt_length,
                      sampling=cfg.sampling_at(0))
    return ColocatedRollout(llm, lambda: named_weights(engine.module))


class Reference:
    """Reference log-probs for the KL term or its monitoring: the base model with LoRA adapters
    switched off, or a frozen copy of the starting weights; nothing at all when no KL is trained
    or monitored (``GRPOConfig.needs_reference``)."""

    def __init__(self, cfg: GRPOConfig, policy):
        self.model, self.context = None, contextlib.nullcontext
        if not cfg.needs_reference:
            return
        if cfg.model.lora:
            self.model, self.context = policy, policy.disable_adapter
        else:
            spec = replace(policy_spec(cfg), lora=None, freeze_vision=False, freeze_projector=False)
            self.model = load(spec).model.eval().requires_grad_(False)

    @property
    def active(self) -> bool:
        return self.model is not None


def make_sampler(cfg: GRPOConfig, items: list) -> _Subset:
    """The prompt sampler over the items inside the offline difficulty band (all without a band)."""
    difficulties = [item.record.get("difficulty") for item in items]
    keep = list(range(len(items)))
    if cfg.selection.difficulty_band is not None:
        lo, hi = parse_band(cfg.selection.difficulty_band, "--difficulty-band")
        keep = difficulty_band(difficulties, lo, hi)
        if not keep:
            raise ConfigError(f"--difficulty-band {cfg.selection.difficulty_band} keeps none of the {len(items)} "
                              "samples (is `difficulty` set? run `mmrl grade` first)")
    if cfg.selection.sampler == "curriculum":
        return _Subset(CurriculumSampler([difficulties[i] for i in keep], cfg.run.seed,
                                         ema=cfg.selection.curriculum_ema), keep)
    return _Subset(UniformSampler(len(keep), cfg.run.seed), keep)


def make_oversample(cfg: GRPOConfig) -> OversampleEMA | None:
    """GLM-4.1V's EMA oversampling with the run's alpha and cap, or None when it is off."""
    if not cfg.selection.oversample:
        return None
    return OversampleEMA(alpha=cfg.selection.oversample_ema, max_expansion=cfg.selection.oversample_max)


def check_graded(items: list, band: str, allow: bool, main: bool = True) -> None:
    """A difficulty band over samples without a ``difficulty`` filters nothing: refuse unless allowed
    (then say how many pass unfiltered)."""
    ungraded = [item for item in items if item.record.get("difficulty") is None]
    if not ungraded:
        return
    if not allow:
        raise ungraded[0].error(f"--difficulty-band {band} needs every sample graded, but {len(ungraded)} of "
                                f"{len(items)} have no difficulty: run `mmrl grade` on them first, or pass "
                                "--allow-ungraded to keep them unfiltered", "difficulty")
    if main:
        log.warning("grpo: --difficulty-band %s: %d of %d samples have no difficulty and are kept unfiltered "
                    "(--allow-ungraded)", band, len(ungraded), len(items))


def make_filter(cfg: GRPOConfig):
    return make_group_filter(cfg.selection.group_filter, parse_band(cfg.selection.accuracy_band, "--accuracy-band"))


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


def run_fingerprint(cfg: GRPOConfig, items: list) -> str:
    """What a resumed run must share with the interrupted one to continue its batches."""
    return fingerprint((item.record["id"] for item in items),
                       [cfg.batch.batch_size, cfg.sampling.n, cfg.run.seed, cfg.selection.sampler,
                        cfg.selection.difficulty_band, cfg.algo])


@dataclass
class Counters:
    """What a checkpoint keeps of the trainer besides the weights: the sampler's and the
    oversampling EMA's state and the updates skipped so far."""

    sampler: _Subset
    oversample: OversampleEMA | None
    skipped: int = 0

    @classmethod
    def restore(cls, state: dict[str, Any] | None, sampler: _Subset, oversample: OversampleEMA | None) -> Counters:
        if state is not None:
            sampler.load_state_dict(state["sampler"])
            if oversample is not None and state.get("oversample"):
                oversample.load_state_dict(state["oversample"])
        return cls(sampler, oversample, int(state.get("skipped_updates", 0)) if state else 0)

    def state(self) -> dict[str, Any]:
        return {"sampler": self.sampler.state_dict(), "skipped_updates": self.skipped,
                "oversample": self.oversample.state_dict() if self.oversample is not None else None}

    def skip(self, step: int, reason: str) -> None:
        self.skipped += 1
        log.warning("step %d: update skipped (%s); %d skipped so far", step + 1, reason, self.skipped)


class SampleLog:
    """``OUT/samples.jsonl``: the first response of a few groups every ``sample_steps`` steps. A
    resumed run first cuts it back to its checkpoint (the redone steps' rows come again)."""

    def __init__(self, out, cfg: GRPOConfig, start: int, main: bool):
        self.every, self.last, self.main = cfg.run.sample_steps, cfg.run.max_steps, main
        self.writer = None
        if main:
            if cfg.run.resume:
                cut_to_step(out / SAMPLES_FILE, start)
            self.writer = JsonlWriter(out / SAMPLES_FILE, mode="append", keep_existing=cfg.run.resume)

    def keep(self, step: int, collected: Collected, k: int = 4) -> None:
        if self.writer is None or not (step % self.every == 0 or step + 1 == self.last):
            return
        first = None
        for g in collected.all_groups[:k]:
            record = g.records[0]
            row = {"step": step + 1, "id": record["id"], "source": g.source, "response": record["response"],
                   "rewards": record["rewards"], "finish_reason": record["finish_reason"]}
            self.writer.write(row)
            first = first or row
        if first is not None:
            log.info("step %d sample [%s] reward %.3f: %s", step + 1, first["id"], first["rewards"]["total"],
                     first["response"][:200].replace("\n", " "))

    def __enter__(self) -> SampleLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.writer is not None:
            self.writer.close()


def announce(cfg: GRPOConfig, items: list, sampler: _Subset, start: int) -> None:
    loss = cfg.loss
    console.print(f"grpo ({cfg.algo}): {len(sampler.keep)} of {len(items)} prompts, {cfg.batch.batch_size} x "
                  f"G={cfg.sampling.n} per step, {cfg.run.max_steps} steps, advantage {loss.advantage}, loss "
                  f"{loss.loss_agg}, clip {loss.clip_low}/{loss.clip_high}, beta {loss.beta}"
                  + (f"; resuming at step {start}" if start else ""))


class RLStep:
    """``step(i)`` for the training run: the RL step, then what the run keeps of it (samples,
    eval, the new weights for a colocated engine)."""

    def __init__(self, cfg: GRPOConfig, policy: Policy, collector: Collector, evaluator: Collector,
                 samples: SampleLog, counters: Counters, step_metrics: Callable[[list], dict] | None):
        self.cfg, self.policy, self.collector, self.evaluator = cfg, policy, collector, evaluator
        self.samples, self.counters, self.step_metrics = samples, counters, step_metrics

    def __call__(self, step: int) -> Step:
        cfg, policy = self.cfg, self.policy
        done = run_step(cfg, step, self.collector, policy, lambda why: self.counters.skip(step, why))
        if done.row.get("updates") and hasattr(policy.rollout, "mark_updated"):
            policy.rollout.mark_updated()  # a colocated engine gets the new weights before its next rollout
        row = done.row
        row["skipped_updates"] = self.counters.skipped
        row["oversample_ratio"] = done.collected.drawn / cfg.batch.batch_size
        if self.counters.oversample is not None:
            row["oversample_expansion"] = self.counters.oversample.expansion()
        row["lr"] = policy.engine.lr()
        row.update(mechanism_metrics(cfg, self.counters.sampler, done.collected, step, len(self.collector.items)))
        if self.step_metrics is not None:
            row.update(self.step_metrics(done.collected.all_groups))
        self.samples.keep(step, done.collected)
        if self.evaluator.items and cfg.eval.eval_steps and ((step + 1) % cfg.eval.eval_steps == 0
                                                             or step + 1 == cfg.run.max_steps):
            with policy.engine.full_weights():
                row.update(evaluate(self.evaluator, cfg, step + 1))
        return Step(row, done.batch)


def evaluate(collector: Collector, cfg: GRPOConfig, step: int) -> dict[str, float]:
    """Greedy answers on the eval set, scored by the same verifiers: ``eval/...`` metrics."""
    params = SamplingParams(n=1, temperature=0.0,
                            max_new_tokens=cfg.eval.eval_max_new_tokens or cfg.sampling.max_new_tokens)
    indices, rows = list(range(len(collector.items))), cfg.rollout.batch_rows
    groups = []
    for start in range(0, len(indices), rows):
        chunk = collector.generate(indices[start:start + rows], params)
        collector.score(chunk, progress=min(1.0, step / cfg.run.max_steps))
        groups += chunk
    return group_metrics(groups, prefix="eval/")


@dataclass
class StepDone:
    """One step's metrics line, every group it drew, and the batch it trained on (None: no update)."""

    row: dict[str, Any]
    collected: Collected
    batch: StepBatch | None = None


def row_rewards(cfg: GRPOConfig, collected: Collected) -> list[float]:
    """Each response's reward: the verifier total, plus DAPO's soft overlong penalty if set."""
    out = []
    for g in collected.groups:
        for comp, record in zip(g.completions, g.records):
            penalty = overlong_penalty(comp.num_tokens, cfg.sampling.max_new_tokens, cfg.loss.overlong_buffer,
                                       cfg.loss.overlong_penalty)
            out.append(float(record["rewards"]["total"]) + penalty)
    return out


def refuse_all_errors(collected: Collected, step: int) -> None:
    """Stop the run when every reward of a step was an error: a verifier, weight or parameter that
    cannot work with these samples. Training on zeros would look like a run and learn nothing."""
    errors = [r.get("error") for g in collected.all_groups for r in g.records]
    if errors and all(errors):
        example = max(set(errors), key=errors.count)
        raise RunError(f"every reward of step {step + 1} was an error ({len(errors)} responses), most often: "
                       f"{example}; check --verifier, --weights and --param (or the samples' `reward` specs). "
                       "Nothing was trained")


def run_step(cfg: GRPOConfig, step: int, collector: Collector, policy: Policy,
             skip: Callable[[str], None]) -> StepDone:
    """One step: rollout + reward, advantages, old/reference log-probs, update."""
    # each prompt's image processed once this step (rollout, then log-prob passes), and its features
    # computed once when the vision tower is frozen
    policy.encoder.keep_encodings(vision_features=True)
    try:
        return _run_step(cfg, step, collector, policy, skip, time.perf_counter())
    finally:
        policy.encoder.keep_encodings(False)


def _run_step(cfg: GRPOConfig, step: int, collector: Collector, policy: Policy, skip: Callable[[str], None],
              t_start: float) -> StepDone:
    import torch

    with policy.engine.full_weights():  # ZeRO-3: every weight here for generation; nothing to do otherwise
        collected = collector.collect(cfg.batch.batch_size, cfg.sampling_at(step),
                                      progress=min(1.0, step / cfg.run.max_steps))
    row: dict[str, Any] = {**group_metrics(collected.all_groups), "valid_group_frac": collected.valid_frac,
                           "groups_drawn": collected.drawn, "refill_rounds": collected.rounds - 1,
                           "time/rollout": collected.seconds["rollout"], "time/reward": collected.seconds["reward"]}
    refuse_all_errors(collected, step)
    batch = None
    if not collected.groups:
        skip("no valid group in this step")
    else:
        batch = build_batch(collected.groups, row_rewards(cfg, collected), overlong_filter=cfg.loss.overlong_filter)
        if not bool(torch.isfinite(batch.rewards).all()):
            skip("non-finite reward")
            batch = None
    if batch is None:
        row["time/step"] = time.perf_counter() - t_start
        return StepDone(row, collected)
    row.update(update_policy(cfg, step, policy, batch, skip, t_start))
    return StepDone(row, collected, batch)


def update_policy(cfg: GRPOConfig, step: int, policy: Policy, batch: StepBatch, skip: Callable[[str], None],
                  t_start: float) -> dict[str, Any]:
    """The old and reference log-probs, the advantages (of the rewards less their KL penalty with
    ``--kl-in-reward``, which needs the old log-probs even for a single update), then the
    update; their metrics."""
    engine, encode, temperature = policy.engine, policy.encoder.encode, cfg.sampling.temperature
    t_lp = time.perf_counter()
    if not cfg.single_update or cfg.loss.kl_in_reward:
        batch.old_logp = frozen_logprobs(engine.model, encode, batch, temperature, policy.pad_id, cfg.batch.micro_batch,
                                         engine=engine, piece_rows=cfg.batch.micro_batch_rows)
    if policy.reference.active:
        batch.ref_logp = frozen_logprobs(policy.reference.model, encode, batch, temperature, policy.pad_id,
                                         cfg.batch.micro_batch, policy.reference.context, engine=engine,
                                         piece_rows=cfg.batch.micro_batch_rows)
    rewards, extra = batch.rewards, {}
    if cfg.loss.kl_in_reward:
        penalty = kl_in_reward(cfg.loss.kl_estimator, batch.old_logp, batch.ref_logp, batch.loss_mask, cfg.loss.beta,
                               cfg.loss.kl_clamp)
        rewards, extra = rewards - penalty, {"reward/kl_penalty": float(penalty.mean())}
    batch.advantages = compute_advantages(cfg.loss.advantage, rewards, batch.group_ids, scale=cfg.loss.scale_rewards)
    t_up = time.perf_counter()
    engine.train()
    stats = ppo_update(engine, encode, batch, cfg, policy.pad_id, seed=cfg.run.seed * 1_000_003 + step,
                       max_len=policy.response_budget, on_skip=skip)
    t_end = time.perf_counter()
    tokens = sum(len(r) for r in batch.responses)
    return {**stats.means(), "time/logprob": t_up - t_lp, "time/update": t_end - t_up, "time/step": t_end - t_start,
            "tokens_per_s": tokens / max(t_end - t_start, 1e-9),
            "advantage/mean_abs": float(batch.advantages.abs().mean()), "updates": stats.updates, **extra}
