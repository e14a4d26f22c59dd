"""``mmrl eval``: benchmarks scored with their official rules (``mmrl eval BENCH --model M``),
plus ``prepare``, ``score``, ``compare`` and ``list``."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click
import typer

from mmrl.rollout.prompts import FORMAT_INSTRUCTION
from typer.core import TyperGroup

from mmrl_cli.recipes import ConfigOption

SUBCOMMANDS = ("run", "prepare", "score", "compare", "list")


class EvalGroup(TyperGroup):
    """``mmrl eval BENCH ...`` is ``mmrl eval run BENCH ...``: any name that is not a subcommand
    is taken as a benchmark (built-in or ``file.py:Class``), with a help page of its own."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return args[0], benchmark_command(self.commands["run"], args[0]), args[1:]
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: click.Context, cmd_name: str):
        """A benchmark name stands for ``run`` with its benchmark set (so a recipe section
        ``eval: {mathvista: ...}`` is checked against the run command's options)."""
        command = super().get_command(ctx, cmd_name)
        if command is None and (":" in cmd_name or cmd_name in _benchmark_names()):
            return benchmark_command(self.commands["run"], cmd_name)
        return command

    def format_usage(self, ctx: click.Context, formatter) -> None:
        formatter.write_usage(ctx.command_path, "BENCH --model M -o DIR [OPTIONS] | COMMAND [ARGS]...")


def benchmark_command(run: click.Command, bench: str) -> click.Command:
    """``mmrl eval BENCH``: the run command with its benchmark argument filled in, and its own help."""
    import copy

    command = copy.copy(run)
    command.name = bench
    command.params = [p for p in run.params if p.name != "bench"]
    callback = run.callback
    command.callback = lambda **kwargs: callback(bench=bench, **kwargs)
    summary = _benchmark_summary(bench)
    command.help = (f"{summary}\n\nDraw answers with a model, score them with this benchmark's rules, write "
                    f"predictions.jsonl and summary.json to DIR.\n\nExample: mmrl eval {bench} --model ckpt/sft "
                    f"-o runs/{bench.replace(':', '-').replace('/', '-')}")
    command.short_help = summary
    return command


def _benchmark_summary(bench: str) -> str:
    from mmrl.eval.benchmark import BENCHMARKS

    try:
        return str(BENCHMARKS.get(bench).summary) if ":" not in bench else f"The benchmark in {bench}."
    except Exception:  # noqa: BLE001 - an unknown name still gets a help page; running it says what is wrong
        return f"Benchmark {bench!r} (see 'mmrl eval list')."


def _benchmark_names() -> list[str]:
    from mmrl.eval.benchmark import benchmark_names

    return benchmark_names()


eval_app = typer.Typer(
    cls=EvalGroup,
    help="Score a model on a benchmark with the benchmark's official rules: "
    "'mmrl eval BENCH --model M -o DIR'. Benchmarks: see 'mmrl eval list'.",
    no_args_is_help=True,
)

DataOption = typer.Option(None, "--data", help="Local copy (JSONL, JSON, Parquet, saved dataset folder) or a Hub id; "
                          "default: the benchmark's Hub dataset.")
SplitOption = typer.Option(None, "--split", help="Split to use; default: the benchmark's (testmini, test...).")
LimitOption = typer.Option(None, "--limit", min=1, help="Use only the first N items.")
JudgeUrlOption = typer.Option(None, "--judge-url", help="OpenAI-compatible endpoint (…/v1) for the benchmarks whose "
                              "official scorer calls GPT; off by default (rules only). Key: $MMRL_JUDGE_API_KEY.")
JudgeModelOption = typer.Option(None, "--judge-model", help="Model name at the judge endpoint.")
ResumeOption = typer.Option(False, "--resume", help="Keep what DIR already holds and do only the rest.")


def _judge(url: Optional[str], model: Optional[str]):
    if url is None and model is None:
        return None
    from mmrl.errors import ConfigError
    from mmrl.eval.judge import JudgeConfig

    if url is None:
        raise ConfigError("--judge-model needs --judge-url")
    return JudgeConfig(base_url=url, model=model or "")


@eval_app.command("run")
def run(
    bench: str = typer.Argument(..., help="Benchmark name (mmrl eval list) or path/to/bench.py:Class."),
    model: str = typer.Option(..., "--model", "-m", help="Model path or Hub name (any backend's model)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: predictions.jsonl, summary.json, ..."),
    data: Optional[str] = DataOption,
    split: Optional[str] = SplitOption,
    limit: Optional[int] = LimitOption,
    backend: str = typer.Option("hf", "--backend", help="hf, vllm or openai (an OpenAI-compatible server)."),
    n: int = typer.Option(1, "--n", min=1, help="Draws per item; n > 1 adds pass@k to the summary."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 = greedy (the default)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling threshold."),
    max_new_tokens: int = typer.Option(1024, "--max-new-tokens", min=1, help="Completion token budget."),
    seed: int = typer.Option(0, "--seed", help="Seed of the draws (per item and draw)."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Items per generation batch."),
    system: Optional[str] = typer.Option(None, "--system", help="System prompt."),
    instruction: str = typer.Option(FORMAT_INSTRUCTION, "--instruction", show_default=False,
                                    help="Format instruction appended to each question (default: the "
                                    "<think>/<answer> instruction mmrl trains with; '' for none)."),
    dtype: str = typer.Option("auto", "--dtype", help="Model dtype (auto, bfloat16, float16, float32)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu, cuda, cuda:1 ..."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Server URL for the openai backend."),
    judge_url: Optional[str] = JudgeUrlOption,
    judge_model: Optional[str] = JudgeModelOption,
    resume: bool = ResumeOption,
    config: Optional[str] = ConfigOption,
) -> None:
    """Run a model on a benchmark: draw, score with the official rules, write the audit and summary."""
    from mmrl.errors import ConfigError
    from mmrl.eval.runner import RUN_WRITES, EvalConfig, run_eval
    from mmrl.io.paths import OutputFolder, check_outputs

    if base_url and backend != "openai":
        raise ConfigError("--base-url is for the openai backend (a served model)")
    check_outputs(inputs={"--data": data}, folders=[OutputFolder(out, RUN_WRITES)])
    opts = {"base_url": base_url} if base_url else {}
    run_eval(EvalConfig(
        benchmark=bench, out_dir=out, data=data, split=split, limit=limit, model=model, backend=backend, n=n,
        temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size,
        system=system, instruction=instruction, dtype=dtype, device=device, backend_opts=opts,
        judge=_judge(judge_url, judge_model), resume=resume,
    ))


@eval_app.command("prepare")
def prepare(
    bench: str = typer.Argument(..., help="Benchmark name or path/to/bench.py:Class."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: samples.jsonl and images/."),
    data: Optional[str] = DataOption,
    split: Optional[str] = SplitOption,
    limit: Optional[int] = LimitOption,
    config: Optional[str] = ConfigOption,
) -> None:
    """Write a benchmark split as SPEC samples (for 'mmrl rollout', then 'mmrl eval score')."""
    from mmrl.eval.benchmark import get_benchmark
    from mmrl.eval.runner import PREPARE_WRITES, EvalConfig, prepare as do_prepare
    from mmrl.io.paths import OutputFolder, check_outputs

    check_outputs(inputs={"--data": data}, folders=[OutputFolder(out, PREPARE_WRITES)])
    b = get_benchmark(bench)
    split_name = EvalConfig(benchmark=bench, out_dir=out, data=data, split=split).resolved_split(b)
    do_prepare(b, out, data, split_name, limit)


@eval_app.command("score")
def score(
    bench: str = typer.Argument(..., help="Benchmark name or path/to/bench.py:Class."),
    rollouts: str = typer.Argument(..., help="Rollout JSONL drawn on 'mmrl eval prepare' samples ('-' for stdin)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder: predictions.jsonl and summary.json."),
    split: Optional[str] = typer.Option(None, "--split", help="Split name recorded in the summary."),
    judge_url: Optional[str] = JudgeUrlOption,
    judge_model: Optional[str] = JudgeModelOption,
    resume: bool = ResumeOption,
    config: Optional[str] = ConfigOption,
) -> None:
    """Score existing rollouts with a benchmark's rules; write the audit and summary."""
    from mmrl.eval.runner import SCORE_WRITES, score_file
    from mmrl.io.paths import OutputFolder, check_outputs

    check_outputs(inputs={"input": rollouts}, folders=[OutputFolder(out, SCORE_WRITES)])
    score_file(bench, rollouts, out, judge=_judge(judge_url, judge_model), resume=resume, split=split)


@eval_app.command("compare")
def compare(
    runs: list[str] = typer.Argument(..., help="Eval output folders (or their summary.json), baseline first."),
    out: Optional[Path] = typer.Option(None, "-o", "--out", help="Also write the comparison rows as JSON."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Summaries side by side, with per-category deltas against the first run."""
    from mmrl.console import console, log
    from mmrl.eval.compare import (
        SUMMARY_FILE,
        comparability_warnings,
        comparison_rows,
        comparison_table,
        load_summary,
        run_label,
    )
    from mmrl.io.metrics import write_json
    from mmrl.io.paths import check_outputs

    check_outputs({"-o": out}, [Path(r) / SUMMARY_FILE if Path(r).is_dir() else r for r in runs])
    summaries = [load_summary(r) for r in runs]
    labels = [run_label(s, r) for s, r in zip(summaries, runs)]
    rows = comparison_rows(summaries)
    for warning in comparability_warnings(labels, summaries):
        log.warning("not like for like: %s", warning)
    console.print(comparison_table(labels, summaries, rows))
    if out is not None:
        write_json(out, {"runs": labels, "rows": rows})


@eval_app.command("list")
def list_benchmarks() -> None:
    """The registered benchmarks, their Hub data, splits and official scorers."""
    from rich.table import Table

    from mmrl.console import console
    from mmrl.eval.benchmark import BENCHMARKS, benchmark_names

    table = Table(title="benchmarks")
    for col in ("name", "hub data", "splits", "breakdowns", "judge", "scorer"):
        table.add_column(col)
    for name in benchmark_names():
        b = BENCHMARKS.get(name)
        hub = b.hub_id + (f" ({b.hub_config})" if b.hub_config else "")
        table.add_row(name, hub, ", ".join(b.splits), ", ".join(b.breakdowns) or "-",
                      ", ".join(b.judge_roles) or "-", b.scorer)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
