"""``mmrl demo``: the whole pipeline on the embedded default, through the commands' own library calls.

    data synth (train + held-out test) -> model init-tiny -> eval spec (base)
      -> warmup-sft -> eval spec (SFT) -> grade (n draws per training prompt)
      -> grpo (on the graded samples) -> eval spec (RL) -> plot -> summary.json + table

Each phase is the function its command calls (``synthesize``, ``init_tiny``, ``mmrl.sft.train``,
``draw_and_score`` + ``run_grade``, ``mmrl.rl.trainer.train``, ``run_eval``, ``plot_runs``), each
writing its usual outputs under its own folder of ``DIR``, so any phase can be rerun by hand with
the command that ``DIR/commands.sh`` lists.
"""
from __future__ import annotations

import hashlib
import shlex
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mmrl.console import console
from mmrl.demo.config import DemoConfig

T = TypeVar("T")
STAGES = ("base", "sft", "rl")
SUMMARY_FILE = "summary.json"
CURVES_FILE = "curves.png"
COMMANDS_FILE = "commands.sh"


class Layout:
    """Where each phase writes, under the demo folder."""

    def __init__(self, root: Path):
        self.root = root
        self.train = root / "data" / "train.jsonl"
        self.sft_data = root / "data" / "sft.jsonl"  # the training samples with their answers shuffled
        self.test = root / "data" / "test.jsonl"
        self.base = root / "model-base"
        self.sft = root / "model-sft"
        self.grade = root / "grade"
        self.rollouts = self.grade / "rollouts.jsonl"
        self.graded = self.grade / "graded.jsonl"
        self.rl = root / "model-rl"
        self.curves = root / CURVES_FILE
        self.summary = root / SUMMARY_FILE

    def model(self, stage: str) -> Path:
        return {"base": self.base, "sft": self.sft, "rl": self.rl}[stage]

    def eval(self, stage: str) -> Path:
        return self.root / "eval" / stage


# Everything the demo writes directly in its folder: what --overwrite may remove there.
DEMO_WRITES = ("data", "model-base", "model-sft", "grade", "model-rl", "eval", CURVES_FILE, SUMMARY_FILE,
               COMMANDS_FILE)


def prepare_root(out: str | Path, overwrite: bool) -> Path:
    """The demo folder, empty of an earlier demo: a folder that holds anything needs ``overwrite``,
    which removes only what an earlier demo wrote there (``claim_output_folder``)."""
    from mmrl.io.paths import claim_output_folder

    return claim_output_folder(out, DEMO_WRITES, overwrite, command="mmrl demo")


def train_seed(seed: int) -> int:
    return 2 * seed


def test_seed(seed: int) -> int:
    """The held-out set's own generator seed: never one a training set of any demo seed uses."""
    return 2 * seed + 1


class Phases:
    """Runs one phase after another, announcing each on stderr and timing it."""

    def __init__(self, total: int):
        self.total, self.done, self.seconds = total, 0, {}

    def run(self, name: str, title: str, fn: Callable[[], T]) -> T:
        self.done += 1
        console.rule(f"[bold]{self.done}/{self.total} {title}", align="left")
        t0 = time.perf_counter()
        value = fn()
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        return value


def image_overlap(train: Path, test: Path) -> int:
    """Held-out images that are byte for byte a training image (0 expected)."""
    from mmrl.io.jsonl import iter_records

    def digests(path: Path) -> set[str]:
        return {hashlib.sha256((path.parent / r["images"][0]).read_bytes()).hexdigest() for r in iter_records(path)}

    return len(digests(train) & digests(test))


def commands(cfg: DemoConfig, lay: Layout) -> list[str]:
    """The CLI commands equivalent to each phase (written to DIR/commands.sh)."""
    q = lambda p: shlex.quote(str(p))  # noqa: E731
    rows = [
        f"mmrl data synth --task {cfg.tasks} --n {cfg.n_train} --seed {train_seed(cfg.seed)} "
        f"--image-size {cfg.image_size} -o {q(lay.train)}",
        f"mmrl data synth --task {cfg.tasks} --n {cfg.n_test} --seed {test_seed(cfg.seed)} "
        f"--image-size {cfg.image_size} -o {q(lay.test)}",
        f"mmrl model init-tiny {q(lay.base)} --size {cfg.size} --seed {cfg.seed}",
        "python -c " + q("from pathlib import Path; from mmrl.demo.warmup_data import write_shuffled; "
                         f"write_shuffled(Path({str(lay.train)!r}), Path({str(lay.sft_data)!r}), {cfg.seed})")
        + "  # warm-up SFT data: the answers shuffled among the samples",
        f"mmrl warmup-sft --model {q(lay.base)} --data {q(lay.sft_data)} --out {q(lay.sft)} --max-steps {cfg.sft_steps} "
        f"--lr {cfg.sft_lr:g} --batch-size {cfg.sft_batch_size} --scheduler cosine --warmup-ratio 0.05 "
        f"--seed {cfg.seed}",
        f"mmrl grade {q(lay.train)} --model {q(lay.sft)} -n {cfg.grade_n} --temperature {cfg.temperature:g} "
        f"--max-new-tokens {cfg.max_new_tokens} --seed {cfg.seed} --k 1,{cfg.grade_n} --rollouts {q(lay.rollouts)} "
        f"--plot {q(lay.grade / 'difficulty.png')} -o {q(lay.graded)}",
        f"mmrl grpo --model {q(lay.sft)} --data {q(lay.graded)} --out {q(lay.rl)} --algo {cfg.algo} "
        f"-G {cfg.group_size} --batch-size {cfg.batch_size} --max-steps {cfg.rl_steps} --lr {cfg.rl_lr:g} "
        f"--warmup-ratio {cfg.rl_warmup_ratio:g} "
        f"--beta {cfg.beta:g} --kl-clamp {cfg.kl_clamp:g} --entropy-coef {cfg.entropy_coef:g} --temperature {cfg.temperature:g} "
        f"--max-new-tokens {cfg.max_new_tokens} "
        f"--group-filter nonconstant --max-refill 0 --reward-workers 0 --seed {cfg.seed}",
    ]
    rows += [f"mmrl eval spec --model {q(lay.model(s))} --data {q(lay.test)} --max-new-tokens {cfg.max_new_tokens} "
             f"--batch-size {cfg.eval_batch_size} --seed {cfg.seed} -o {q(lay.eval(s))}" for s in STAGES]
    rows.append(f"mmrl plot {q(lay.rl / 'metrics.jsonl')} -o {q(lay.curves)}")
    return rows


def run_demo(cfg: DemoConfig, overwrite: bool = False) -> dict[str, Any]:
    """Run the demo as ``cfg`` says; returns the summary (also in ``DIR/summary.json``)."""
    cfg.check()
    import torch

    from mmrl.data.synth import synthesize, task_names
    from mmrl.demo.warmup_data import write_shuffled

    torch.set_num_threads(cfg.threads)

    task_names(cfg.tasks)  # an unknown task fails before anything is written
    started = time.perf_counter()
    lay = Layout(prepare_root(cfg.out, overwrite))
    (lay.root / COMMANDS_FILE).write_text("# what each phase of mmrl demo runs, as commands\n"
                                         + "\n".join(commands(cfg, lay)) + "\n", encoding="utf-8")
    phases = Phases(9)

    def data() -> None:
        synthesize(lay.train, task=cfg.tasks, n=cfg.n_train, seed=train_seed(cfg.seed), image_size=cfg.image_size)
        synthesize(lay.test, task=cfg.tasks, n=cfg.n_test, seed=test_seed(cfg.seed), image_size=cfg.image_size)
        moved = write_shuffled(lay.train, lay.sft_data, cfg.seed)
        console.print(f"{cfg.n_train} training and {cfg.n_test} held-out samples of {cfg.tasks}, "
                      f"{cfg.image_size} px; the warm-up SFT copy has its answers shuffled among the samples "
                      f"({moved} of {cfg.n_train} moved): SFT learns the form, not the task")

    phases.run("data", "data synth: training and held-out test sets", data)
    overlap = image_overlap(lay.train, lay.test)

    def model() -> dict[str, Any]:
        from mmrl.model.tiny import init_tiny

        info = init_tiny(lay.base, size=cfg.size, seed=cfg.seed)
        console.print(f"tiny Qwen2.5-VL, size {cfg.size}: {info['parameters']:,} parameters, random weights")
        return info

    model_info = phases.run("model", "model init-tiny", model)
    evals: dict[str, dict[str, Any]] = {}
    evals["base"] = phases.run("eval_base", "eval spec: the base model on the held-out set",
                               lambda: evaluate(cfg, lay, "base"))
    sft = phases.run("sft", f"warmup-sft: {cfg.sft_steps} steps, the answer format", lambda: warmup(cfg, lay))
    evals["sft"] = phases.run("eval_sft", "eval spec: the SFT model", lambda: evaluate(cfg, lay, "sft"))
    graded = phases.run("grade", f"grade: {cfg.grade_n} draws per training prompt from the SFT model",
                        lambda: grade(cfg, lay))
    budget = f", at most {cfg.minutes:g} min" if cfg.minutes else ""
    rl = phases.run("rl", f"grpo: {cfg.rl_steps} steps of {cfg.batch_size} prompts x {cfg.group_size} samples{budget}",
                    lambda: reinforce(cfg, lay))
    evals["rl"] = phases.run("eval_rl", "eval spec: the RL model", lambda: evaluate(cfg, lay, "rl"))
    phases.run("plot", "plot: training curves", lambda: curves(lay))

    from mmrl.demo.report import build_summary, print_table
    from mmrl.io.metrics import write_json

    summary = build_summary(cfg, evals, seconds=round(time.perf_counter() - started, 1), phases=phases.seconds,
                            sft=sft, rl=rl, grade=graded, model=model_info, overlap=overlap,
                            paths={"curves": str(lay.curves), "commands": str(lay.root / COMMANDS_FILE)})
    write_json(lay.summary, summary)
    print_table(summary)
    console.print(f"demo: {summary['seconds']:.0f} s; summary in {lay.summary}, curves in {lay.curves}")
    return summary


def evaluate(cfg: DemoConfig, lay: Layout, stage: str) -> dict[str, Any]:
    """``mmrl eval spec`` on the held-out set (greedy), plus the rewards of its answers."""
    from mmrl.demo.metrics import answer_stats
    from mmrl.demo.report import answer_rewards
    from mmrl.eval.runner import PREDICTIONS_FILE, EvalConfig, run_eval
    from mmrl.io.jsonl import iter_records

    out = lay.eval(stage)
    summary = run_eval(EvalConfig(benchmark="spec", out_dir=out, data=str(lay.test), model=str(lay.model(stage)),
                                  max_new_tokens=cfg.max_new_tokens, batch_size=cfg.eval_batch_size, seed=cfg.seed))
    answers = answer_stats(iter_records(out / PREDICTIONS_FILE), lambda r: 1.0 if r.get("correct") else 0.0)
    return {"summary": summary, "rewards": answer_rewards(out / PREDICTIONS_FILE), "answers": answers}


def warmup(cfg: DemoConfig, lay: Layout) -> dict[str, Any]:
    from mmrl.sft import SFTConfig, train

    result = train(SFTConfig.from_flags(model=str(lay.base), data=str(lay.sft_data), out=str(lay.sft),
                                        max_steps=cfg.sft_steps, lr=cfg.sft_lr, batch_size=cfg.sft_batch_size,
                                        scheduler="cosine", warmup_ratio=0.05, seed=cfg.seed))
    return {"steps": result.steps, "seconds": round(result.seconds, 2),
            "final_loss": result.losses[-1] if result.losses else None}


def grade(cfg: DemoConfig, lay: Layout) -> dict[str, Any]:
    from mmrl.grading import GradeConfig
    from mmrl.grading.run import draw_and_score, run_grade
    from mmrl.model.loading import ModelSpec
    from mmrl.rollout import PromptConfig, SamplingParams

    params = SamplingParams(n=cfg.grade_n, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens,
                            seed=cfg.seed)
    lay.grade.mkdir(parents=True, exist_ok=True)
    scored = draw_and_score(str(lay.train), str(lay.rollouts), "hf", ModelSpec(str(lay.sft)), params,
                            PromptConfig(), {})
    ks = tuple(sorted({1, cfg.grade_n}))
    return run_grade(scored, str(lay.graded), GradeConfig(ks=ks), plot=str(lay.grade / "difficulty.png"),
                     metrics_path=str(lay.grade / "graded.metrics.json"))


def grpo_config(cfg: DemoConfig, model: str | Path, data: str | Path, out: str | Path):
    """The demo's GRPO settings (what ``commands.sh`` lists as ``mmrl grpo``)."""
    from mmrl.rl.config import GRPOConfig

    return GRPOConfig.from_flags(
        model=str(model), data=str(data), out=str(out), algo=cfg.algo, group_size=cfg.group_size,
        batch_size=cfg.batch_size, max_steps=cfg.rl_steps, max_seconds=cfg.rl_seconds, lr=cfg.rl_lr,
        warmup_ratio=cfg.rl_warmup_ratio, beta=cfg.beta, kl_clamp=cfg.kl_clamp,
        entropy_coef=cfg.entropy_coef, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens,
        group_filter="nonconstant", max_refill=0, reward_workers=0, sample_steps=25, seed=cfg.seed)


def reinforce(cfg: DemoConfig, lay: Layout) -> dict[str, Any]:
    from mmrl.demo.metrics import step_metrics
    from mmrl.demo.report import rl_signal
    from mmrl.rl.trainer import train

    result = train(grpo_config(cfg, lay.sft, lay.graded, lay.rl), step_metrics=step_metrics)
    if result.interrupted:
        raise KeyboardInterrupt
    return {"steps": result.steps, "max_steps": cfg.rl_steps, "seconds": round(result.seconds, 2),
            "out_of_time": result.out_of_time, "skipped_updates": result.skipped_updates,
            **rl_signal(result.history)}


def curves(lay: Layout) -> None:
    from mmrl.demo.curves import plot_demo

    plot_demo(lay.rl / "metrics.jsonl", lay.curves)
    console.print(f"curves: {lay.curves}")
