"""``mmrl grade``: pass@k and difficulty per sample from n scored draws."""
from __future__ import annotations

from typing import Optional

import typer

from mmrl_cli.recipes import ConfigOption
from mmrl_cli.data_options import ColumnsOption, SplitOption


def _ks(text: str) -> tuple[int, ...]:
    from mmrl.errors import ConfigError

    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError:
        raise ConfigError(f"--k takes comma-separated integers, e.g. 1,4,8; got {text!r}") from None
    if not ks or ks[0] < 1:
        raise ConfigError(f"--k values must be >= 1, got {text!r}")
    return ks


def grade(
    src: str = typer.Argument(..., help="Scored rollouts (mmrl reward output), or samples with --model (JSONL, "
                              "Parquet file or folder, or a dataset folder); '-' for stdin."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Graded samples JSONL (default stdout)."),
    k: str = typer.Option("1,4,8", "--k", help="pass@k for these k (k above a sample's n is left out)."),
    keep: Optional[str] = typer.Option(None, "--keep", help="Keep samples whose accuracy is in LOW:HIGH, e.g. 0.1:0.9."),
    dropped: Optional[str] = typer.Option(None, "--dropped", help="Write the samples --keep drops here."),
    buckets: Optional[str] = typer.Option(
        None, "--buckets", help="Named levels by difficulty: easy,medium,hard (equal widths) or easy:0.3,medium:0.7,hard."),
    difficulty: str = typer.Option("fail_rate", "--difficulty", help="fail_rate (1 - c/n), pass_at_max_k, or file.py:fn."),
    human_weight: float = typer.Option(0.5, "--human-weight", min=0.0, max=1.0,
                                       help="Weight of an existing (human) difficulty label in the merged value."),
    correct_threshold: float = typer.Option(1.0, "--correct-threshold", help="A draw is correct at this accuracy."),
    plot: Optional[str] = typer.Option(None, "--plot", help="Write a difficulty histogram PNG here."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Summary JSON (default: OUT.metrics.json)."),
    image_root: Optional[str] = typer.Option(None, "--image-root", help="Folder that relative image paths of stdin records are relative to (default: the current folder)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Draw and score with this model first."),
    split: Optional[str] = typer.Option(None, "--split", help="With --model: " + SplitOption.help),
    columns: Optional[str] = typer.Option(None, "--columns", help="With --model: " + ColumnsOption.help),
    n: int = typer.Option(8, "-n", "--n", min=1, help="With --model: draws per sample."),
    backend: str = typer.Option("hf", "--backend", help="With --model: hf, vllm or openai."),
    max_new_tokens: int = typer.Option(512, "--max-new-tokens", min=1, help="With --model: tokens per draw."),
    temperature: float = typer.Option(1.0, "--temperature", min=0.0, help="With --model: sampling temperature."),
    seed: Optional[int] = typer.Option(None, "--seed", help="With --model: sampling seed."),
    rollouts: Optional[str] = typer.Option(None, "--rollouts", help="With --model: keep the scored draws here."),
    resume: bool = typer.Option(False, "--resume", help="With --model and --rollouts: continue interrupted drawing."),
    base_url: str = typer.Option("http://127.0.0.1:8000/v1", "--base-url", help="With --backend openai."),
    config: Optional[str] = ConfigOption,
) -> None:
    """Grade samples by n scored draws: n, correct, pass@k, mean reward, difficulty in [0, 1]."""
    from mmrl.grading import GradeConfig, parse_band, parse_buckets
    from mmrl.grading.pass_at_k import DIFFICULTY
    from mmrl.grading.run import draw_and_score, run_grade, unscored_path
    from mmrl.io.metrics import metrics_output, metrics_path_for
    from mmrl.io.paths import check_outputs

    from mmrl.errors import ConfigError
    from mmrl.io.columns import parse_columns

    DIFFICULTY.get(difficulty)  # fail early on an unknown measure
    mapping = parse_columns(columns)
    if not model and (split is not None or mapping):
        raise ConfigError("--split and --columns read samples for --model; without it grade reads scored rollouts "
                          "(JSONL, as mmrl reward writes them)")
    metrics_path = metrics_path_for(out, metrics)
    outputs = {"-o": out, "--dropped": dropped, "--plot": plot, **metrics_output(out, metrics), "--rollouts": rollouts}
    if model and rollouts:
        outputs["--rollouts (its unscored draws)"] = unscored_path(rollouts)
    check_outputs(outputs, {"input": src, "--model": model})
    cfg = GradeConfig(ks=_ks(k), correct_threshold=correct_threshold, difficulty=difficulty,
                      human_weight=human_weight, keep=parse_band(keep) if keep else None,
                      buckets=parse_buckets(buckets) if buckets else None)
    if model:
        from mmrl.model.loading import ModelSpec
        from mmrl.rollout import PromptConfig, SamplingParams

        params = SamplingParams(n=n, temperature=temperature, max_new_tokens=max_new_tokens, seed=seed)
        target = model if backend == "openai" else ModelSpec(model)
        options = {"base_url": base_url} if backend == "openai" else {}
        src = draw_and_score(src, rollouts, backend, target, params, PromptConfig(), options, resume=resume,
                             image_root=image_root, split=split, columns=mapping)
    run_grade(src, out, cfg, plot=plot, dropped=dropped, metrics_path=metrics_path, image_root=image_root)


def register(app: typer.Typer) -> None:
    app.command("grade")(grade)
