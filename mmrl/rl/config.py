"""Settings of an online RL run (``mmrl grpo``), composed of the library's own specs, and the
defaults each ``--algo`` brings.

``GRPOConfig`` is a tree: the model (``ModelSpec``), data, prompts (``PromptConfig``), sampling
(``SamplingParams``), rewards (``RewardConfig``), optimizer (``OptimSpec``), the loss
(``LossSpec``), batching, prompt selection, the rollout engine and the run (``RLRunSpec``). Each
leaf is declared once (``mmrl.settings``); the command line, recipes and the trainer read that
declaration, and the trainer receives the specs ready to use.

``--algo`` only fills the settings a user left unset: the advantage estimator, clip range, KL,
loss aggregation, group filter and overlong handling of each published algorithm (sources in
docs/grpo.md). Any of them can be set explicitly and then wins. ``GRPOConfig.from_flags`` applies
the algorithm, builds the tree and checks it; a config it returns is complete.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mmrl.errors import ConfigError
from mmrl.model.loading import ModelSpec
from mmrl.rewards.scoring import RewardConfig
from mmrl.rollout.prompts import PromptConfig
from mmrl.rollout.types import SamplingParams
from mmrl.settings import (
    ANY,
    COUNT,
    NON_NEGATIVE,
    NON_NEGATIVE_COUNT,
    POSITIVE,
    SHARE,
    Bound,
    build,
    leaves,
    section,
    setting,
)
from mmrl.train.distributed import OptimSpec
from mmrl.train.spec import DataSpec, RunSpec, TrainingConfig

# What each algorithm sets when the user does not (sources in docs/grpo.md); keys are flag keys.
ALGORITHMS: dict[str, dict[str, Any]] = {
    # DeepSeekMath GRPO: group-normalised advantages, k3 KL in the loss (beta 0.04), eps 0.2,
    # per-sequence averaging of token losses.
    "grpo": {"advantage": "grpo", "beta": 0.04, "kl_estimator": "k3", "clip_low": 0.2, "clip_high": 0.2,
             "loss_agg": "seq-mean-token-mean"},
    # Dr.GRPO (Liu et al. 2025): no std in the advantage, no length normalisation, no KL.
    "drgrpo": {"advantage": "drgrpo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2,
               "loss_agg": "seq-mean-token-sum-norm"},
    # RLOO (MM-Eureka): leave-one-out baseline, PPO clip 0.2, no KL, token-level averaging.
    "rloo": {"advantage": "rloo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2, "loss_agg": "token-mean"},
    # REINFORCE++ with a group baseline (verl's reinforce_plus_plus_baseline): batch-whitened.
    "reinforce_pp": {"advantage": "reinforce_pp", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.2,
                     "loss_agg": "token-mean"},
    # DAPO (Yu et al. 2025): clip-higher 0.2/0.28, token-level loss, no KL, dynamic sampling
    # (drop groups whose rewards are all equal, refill), soft overlong punishment (last 20%).
    "dapo": {"advantage": "grpo", "beta": 0.0, "clip_low": 0.2, "clip_high": 0.28, "loss_agg": "token-mean",
             "group_filter": "nonconstant", "overlong_buffer": 0.2, "overlong_penalty": 1.0},
    # R1-VL StepGRPO: GRPO over StepRAR + StepRVR, k3 KL beta 0.04, G = 4, temperature 1.2.
    # GSPO (Zheng et al. 2025, arXiv 2507.18071): GRPO's advantages with the length-normalised
    # sequence ratio, clipped at 3e-4 / 4e-4 (paper v2 section 5.1; verl's run_qwen30b_gspo.sh and
    # TRL's paper index use the same), no KL, the per-sequence mean that verl's GSPO loss forces.
    "gspo": {"advantage": "grpo", "beta": 0.0, "clip_low": 3e-4, "clip_high": 4e-4, "loss_agg": "seq-mean-token-mean",
             "importance_sampling_level": "sequence"},
    "stepgrpo": {"advantage": "stepgrpo", "beta": 0.04, "kl_estimator": "k3", "clip_low": 0.2, "clip_high": 0.2,
                 "loss_agg": "seq-mean-token-mean", "group_size": 4, "temperature": 1.2,
                 "verifier": "steprar", "weights": {"step_rar": 1.0, "step_rvr": 1.0}, "reward_spec": "config"},
}
ALGO_HELP = ("grpo, drgrpo, rloo, reinforce_pp, dapo, gspo or stepgrpo: sets the defaults of the settings marked "
             "'--algo sets it'.")
REPORT_TO = ("none", "tensorboard", "wandb")
MONITOR_KL = ("auto", "always", "never")


@dataclass
class LossSpec:
    """The policy loss of one update: advantages, clipping, KL, aggregation and DAPO's length terms."""

    advantage: str = setting("grpo", registry="mmrl.rl.advantages:ADVANTAGES", algo=True,
                             help="Advantage estimator: grpo, drgrpo, rloo, reinforce_pp, stepgrpo or FILE.py:FN.")
    scale_rewards: str | None = setting(None, registry="mmrl.rl.advantages:REWARD_SCALES",
                                        help="Divide the centred rewards by the std of the group, of the whole batch, "
                                             "or not at all (TRL's scale_rewards); default: the estimator's own "
                                             "(grpo, stepgrpo: group; drgrpo, rloo: none; reinforce_pp takes none).")
    beta: float = setting(0.0, bound=NON_NEGATIVE, algo=True,
                          help="KL coefficient (in the loss, or in the reward with --kl-in-reward).")
    kl_estimator: str = setting("k3", registry="mmrl.rl.kl:KL_ESTIMATORS", algo=True, help="k1, k2 or k3.")
    kl_in_reward: bool = setting(False, help="Subtract beta x the response's summed KL to the reference from its "
                                             "reward before the advantages (REINFORCE++, RLOO; verl's "
                                             "use_kl_in_reward) instead of a KL loss term.")
    monitor_kl: str = setting("auto", choices=MONITOR_KL,
                              help="Log the KL to the reference when beta is 0 (not trained on): auto (only with "
                                   "--lora, whose reference is the base model: one no-grad pass a step), always "
                                   "(a frozen copy of the weights where needed), never.")
    kl_clamp: float = setting(10.0, bound=POSITIVE, help="Clamp each token's KL estimate to [-c, c] "
                                                               "(verl's low_var_kl: k3 clamped to 10).")
    clip_low: float = setting(0.2, bound=SHARE, algo=True, help="Lower clip range eps_low.")
    clip_high: float = setting(0.2, bound=NON_NEGATIVE, algo=True, help="Upper clip range eps_high.")
    importance_sampling_level: str = setting("token", registry="mmrl.rl.losses:IMPORTANCE_LEVELS", algo=True,
                                             help="token (PPO, GRPO: a ratio per token) or sequence (GSPO: "
                                                  "exp of the mean token log-ratio of each response).")
    dual_clip: float | None = setting(None, bound=Bound(1, low_open=True),
                                      help="Dual-clip constant c > 1 for negative advantages (off by default).")
    loss_agg: str = setting("token-mean", registry="mmrl.rl.losses:AGGREGATIONS", algo=True,
                            help="token-mean, seq-mean-token-mean or seq-mean-token-sum-norm.")
    entropy_coef: float = setting(0.0, bound=ANY, help="Entropy bonus coefficient.")
    overlong_filter: bool = setting(False, help="No loss on responses cut at --max-new-tokens (DAPO).")
    overlong_buffer: float = setting(0.0, bound=SHARE, algo=True,
                                     help="Soft overlong penalty over this last share of --max-new-tokens.")
    overlong_penalty: float = setting(1.0, bound=NON_NEGATIVE, algo=True, help="Largest soft overlong penalty.")
    rollout_is: str | None = setting(None, registry="mmrl.rl.rollout_correction:ROLLOUT_IS", allow=("none",),
                                     help="Correct for the rollout engine's log-probs differing from the trainer's "
                                          "(importance weights per token, TRL/verl): truncate caps each weight at "
                                          "--rollout-is-cap, mask zeroes weights outside [1/cap, cap], none weighs "
                                          "nothing. Default: truncate with --rollout-backend vllm, none with hf (it "
                                          "samples from the trained model itself).")
    rollout_is_cap: float = setting(2.0, bound=Bound(1, low_open=True), help="--rollout-is: the largest weight.")


@dataclass
class BatchSpec:
    """How a step's batch is split: prompts per step, per optimizer update, per forward/backward."""

    batch_size: int = setting(8, bound=COUNT, help="Prompts (valid groups) per step.")
    mini_batch_size: int | None = setting(None, bound=COUNT,
                                          help="Prompts per optimizer update (default: the batch).")
    micro_batch_size: int | None = setting(None, bound=COUNT, help="Prompts per forward/backward (memory only).")
    micro_batch_rows: int | None = setting(None, bound=COUNT,
                                           help="Responses per forward/backward inside a micro-batch; the prompts "
                                                "are still prefilled once (memory only).")
    ppo_epochs: int = setting(1, bound=COUNT, help="Passes over each step's batch.")

    @property
    def mini_batch(self) -> int:
        return self.mini_batch_size or self.batch_size

    @property
    def micro_batch(self) -> int:
        return min(self.micro_batch_size or self.mini_batch, self.mini_batch)


@dataclass
class SelectionSpec:
    """Which prompts a step draws and which groups it keeps (curricula, filters, oversampling)."""

    sampler: str = setting("uniform", choices=("uniform", "curriculum"),
                           help="uniform, or curriculum (GLM-4.1V RLCS: weights by pass rate, updated online).")
    difficulty_band: str | None = setting(None, help="Keep samples whose `difficulty` is in LOW:HIGH "
                                                     "(from mmrl grade).")
    allow_ungraded: bool = setting(False, help="With --difficulty-band: keep samples without a `difficulty` "
                                               "(a notice counts them) instead of refusing to start.")
    group_filter: str = setting("none", registry="mmrl.rl.prompt_sampling:GROUP_FILTERS", allow=("accuracy_band",),
                                algo=True, help="none, nonconstant (DAPO dynamic sampling) or accuracy_band.")
    accuracy_band: str = setting("0.1:0.9", help="--group-filter accuracy_band: the kept band of group accuracy.")
    oversample: bool = setting(False, help="EMA oversampling: draw 1/(1 - invalid rate) times the prompts "
                                           "(GLM-4.1V).")
    max_refill: int = setting(4, bound=NON_NEGATIVE_COUNT, help="Extra draw rounds to fill a batch with valid "
                                                                "groups.")
    oversample_ema: float = setting(0.9, bound=SHARE, help="--oversample: the weight the invalid-rate EMA keeps "
                                                           "of its old value at each step.")
    oversample_max: float = setting(4.0, bound=Bound(1), help="--oversample: draw at most this many times the "
                                                              "prompts a batch needs.")
    curriculum_ema: float = setting(0.7, bound=SHARE, help="--sampler curriculum: the weight a prompt's pass-rate "
                                                           "estimate keeps of its old value at each update.")


@dataclass
class RolloutSpec:
    """The engine that generates the responses."""

    backend: str = setting("hf", flag="--rollout-backend", choices=("hf", "vllm"),
                           help="hf (shares the trained model) or vllm (a colocated engine in this process; "
                                "needs --max-prompt-length; run on vLLM's CPU build, not yet on a GPU).")
    batch_rows: int = setting(64, flag="--rollout-batch-rows", bound=COUNT,
                              help="Prompts x G decoded together (memory).")
    vllm_gpu_memory_utilization: float = setting(0.3, bound=Bound(0, 1, low_open=True),
                                                 help="Share of GPU memory the colocated vLLM engine may take.")
    vllm_sleep_level: int = setting(1, bound=Bound(0, 2, integer=True),
                                    help="Between rollouts: 0 keeps the engine awake, 1 offloads its weights to CPU "
                                         "memory and drops its KV cache, 2 drops both (the weights are pushed "
                                         "again); vLLM's CPU build has 0 only.")


@dataclass
class EvalSpec:
    """Held-out samples scored greedily during training."""

    eval_data: str | None = setting(None, help="Held-out samples scored greedily every --eval-steps.")
    eval_split: str | None = setting(None, help="Split of an --eval-data folder that holds several (--split is "
                                                "--data's).")
    eval_steps: int | None = setting(None, bound=COUNT, help="Evaluate every N steps (and at the end).")
    eval_max_new_tokens: int | None = setting(None, bound=COUNT, help="Token budget of eval answers.")


@dataclass
class RLRunSpec(RunSpec):
    """The run: its length, time budget, logging and sample keeping, besides what every run has."""

    max_steps: int = setting(100, bound=COUNT, help="Training steps.")
    max_seconds: float | None = setting(None, bound=POSITIVE,
                                        help="Time budget: no step starts that would likely end past it; the model "
                                             "is saved as after --max-steps.")
    report_to: str = setting("none", choices=REPORT_TO, help="none, tensorboard or wandb (offline without "
                                                             "WANDB_API_KEY).")
    sample_steps: int = setting(10, bound=COUNT, help="Keep (OUT/samples.jsonl) and print sample responses every "
                                                      "N steps.")


@dataclass
class GRPOConfig(TrainingConfig):
    """Every setting of ``mmrl grpo``, as the library's specs."""

    model: ModelSpec = section(ModelSpec, help="The policy", defaults={"dtype": "float32"})
    data: DataSpec = section(DataSpec, help="Training data")
    algo: str = setting("grpo", choices=tuple(ALGORITHMS), help=ALGO_HELP)
    sampling: SamplingParams = section(SamplingParams, help="Sampling", defaults={"group_size": 8})
    batch: BatchSpec = section(BatchSpec, help="Batching")
    loss: LossSpec = section(LossSpec, help="The loss")
    selection: SelectionSpec = section(SelectionSpec, help="Prompt selection")
    optim: OptimSpec = section(OptimSpec, help="Optimizer", defaults={"lr": 1e-6, "scheduler": "constant"})
    reward: RewardConfig = section(RewardConfig, help="Rewards")
    prompt: PromptConfig = section(PromptConfig, help="Prompts")
    rollout: RolloutSpec = section(RolloutSpec, help="Rollout engine")
    eval: EvalSpec = section(EvalSpec, help="Evaluation")
    run: RLRunSpec = section(RLRunSpec, help="The run")

    @classmethod
    def from_flags(cls, **flat: Any) -> GRPOConfig:
        """The config of flat settings (flag keys, as the command line and recipes hold them):
        the algorithm's defaults fill what is unset, then every value is checked."""
        algo = flat.get("algo") or "grpo"
        if algo not in ALGORITHMS:
            raise ConfigError(f"unknown --algo {algo!r}; known: {', '.join(ALGORITHMS)}")
        unset = {leaf.key for leaf in leaves(cls) if leaf.meta.algo and flat.get(leaf.key) is None}
        filled = {k: v for k, v in flat.items() if k not in unset}
        filled.update({k: v for k, v in ALGORITHMS[algo].items() if k in unset})
        cfg = build(cls, filled)
        cfg.prompt = replace(cfg.prompt, pool_seed=cfg.run.seed, min_pixels=cfg.model.min_pixels,
                             max_pixels=cfg.model.max_pixels)
        cfg.check()
        return cfg

    def check(self) -> None:
        """Every value in its range and every registered name known: before any model loads."""
        super().check()
        if self.batch.mini_batch_size and self.batch.mini_batch_size > self.batch.batch_size:
            raise ConfigError(f"--mini-batch-size ({self.batch.mini_batch_size}) exceeds --batch-size "
                              f"({self.batch.batch_size})")
        if self.sampling.temperature <= 0:
            raise ConfigError(f"--temperature must be > 0 for RL sampling, got {self.sampling.temperature}")
        if self.eval.eval_steps is not None and self.eval.eval_data is None:
            raise ConfigError("--eval-steps needs --eval-data")
        if self.rollout.backend == "vllm" and not self.prompt.max_prompt_length:
            raise ConfigError("--rollout-backend vllm needs --max-prompt-length: the colocated engine's KV cache "
                              "is sized for it plus the response budget, not the model's whole context")
        if self.loss.kl_in_reward and not self.loss.beta:
            raise ConfigError("--kl-in-reward needs --beta > 0: beta is the coefficient of the KL in the reward")
        if self.loss.scale_rewards is not None:
            from mmrl.rl.advantages import check_scale

            check_scale(self.loss.advantage, self.loss.scale_rewards)
        parse_band(self.selection.accuracy_band, "--accuracy-band")
        if self.selection.difficulty_band is not None:
            parse_band(self.selection.difficulty_band, "--difficulty-band")

    def sampling_at(self, step: int) -> SamplingParams:
        """The step's sampling: its own seed, so a resumed run draws exactly what the broken one
        would; the engine's log-probs when the rollout correction needs them."""
        return replace(self.sampling, seed=self.run.seed * 1_000_003 + step,
                       logprobs=self.rollout_correction != "none")

    @property
    def rollout_correction(self) -> str:
        """``--rollout-is``, or its default: truncate where an engine samples (vLLM, whose kernels and
        precision differ from the trainer's; TRL's default there too), none where the trained model
        samples itself (hf: the two differ by rounding only)."""
        if self.loss.rollout_is is not None:
            return self.loss.rollout_is
        return "truncate" if self.rollout.backend == "vllm" else "none"

    @property
    def updates_per_step(self) -> int:
        """Optimizer updates one step makes: a mini-batch at a time, ``ppo_epochs`` times over."""
        return self.batch.ppo_epochs * -(-self.batch.batch_size // self.batch.mini_batch)

    @property
    def needs_reference(self) -> bool:
        """Reference log-probs each step: for a KL term (loss or reward), or to monitor the KL at
        beta 0 (``--monitor-kl``: auto only where the reference is free, the base under LoRA)."""
        monitor = self.loss.monitor_kl
        return bool(self.loss.beta) or monitor == "always" or (monitor == "auto" and self.model.lora is not None)

    @property
    def single_update(self) -> bool:
        """One on-policy update per step: the old log-probs equal the current ones."""
        return self.updates_per_step == 1



def parse_band(text: str, flag: str) -> tuple[float, float]:
    """``"0.1:0.9"`` as ``(0.1, 0.9)`` with ``0 <= low <= high <= 1``."""
    low, sep, high = str(text).partition(":")
    try:
        lo, hi = float(low), float(high)
        if not sep or not 0.0 <= lo <= hi <= 1.0:
            raise ValueError
    except ValueError:
        raise ConfigError(f"{flag} must be LOW:HIGH with 0 <= LOW <= HIGH <= 1, got {text!r}") from None
    return lo, hi
