"""``mmrl reward``: score rollout records with rule-based verifiers (docs/data-format.md section 3)."""
from __future__ import annotations

import multiprocessing
from typing import Optional

import typer

from mmrl_cli.recipes import ConfigOption, section_for


def _verifier_lines() -> list[tuple[str, str]]:
    from mmrl.rewards import VERIFIERS, summary_of
    from mmrl.rewards.lookup import load_plugins

    load_plugins()

    return [(name, summary_of(VERIFIERS.get(name))) for name in VERIFIERS.names()]


def _help() -> str:
    lines = "\n".join(f"  {name}: {summary}" for name, summary in _verifier_lines())
    return (
        "Score rollout records: each record's reward.verifier picks the verifier (else --verifier), "
        "reward.weights the component weights (else --weights), reward.params its settings (over --param). "
        "Adds extracted, rewards {accuracy, format, style, ..., total} and, when a verifier fails or "
        "times out, error (total 0); records keep every input field in order. A summary table per "
        "source and per verifier goes to stderr.\n\n"
        "Answers in prose are narrowed to the answer (answer tag or box first, then an answer phrase such as "
        "'the answer is', 'la réponse est', '答案是', 'Ответ:', then the last math span, then the last number); "
        "references written as text or LaTeX are read the same way. Where graders differ, math params decide: "
        "decimal_comma=auto|never|always (auto: '1,5' and '0,111' are decimals, '1,000' is a thousand, "
        "'1.234,5' is European), list_order=auto|ordered|unordered (auto: tuples in order, bare lists in any order "
        "unless the question asks for an order, e.g. 'in increasing order', 'respectively'). choice reads letters "
        "in context: 'not A', 'it can't be A or B', 'non A', '不是 A' rule letters out, 'A or B' picks none.\n\n"
        "\b\nVerifiers (a user verifier is named as path/to/file.py:function):\n" + lines
    )


def _flag(ctx: typer.Context, name: str) -> bool:
    """Whether a flag was typed on the command line (it then beats the recipe)."""
    source = ctx.get_parameter_source(name)  # typer vendors click: compare by name, not by class
    return getattr(source, "name", None) == "COMMANDLINE"


def reward(
    ctx: typer.Context,
    input: Optional[str] = typer.Argument(None, help="Rollout JSONL ('-' for stdin)."),
    out: Optional[str] = typer.Option(None, "-o", "--out", help="Output JSONL (stdout when absent)."),
    verifier: str = typer.Option("math", "--verifier", help="Verifier for records without reward.verifier."),
    weights: Optional[str] = typer.Option(
        None, "--weights", help="Component weights, e.g. accuracy=0.9,format=0.1 (default: the verifier's own, "
        "else accuracy 0.9 / format 0.1)."),
    param: list[str] = typer.Option([], "--param", help="Verifier parameter KEY=VALUE (JSON values); repeatable. "
                                    "math: rel_tol, abs_tol, decimal_comma (auto|never|always), "
                                    "list_order (auto|ordered|unordered), rename_variables (false; true: "
                                    "f(y) answers f(x)), relation_answers_set (true: -2<=x<=7 answers [-2,7])."),
    format_mode: str = typer.Option("strict", "--format-mode", help="Format component: strict or lenient."),
    format_gate: bool = typer.Option(False, "--format-gate/--no-format-gate",
                                     help="GLM-style gate: total is 0 unless the format is perfect."),
    style_gate: bool = typer.Option(False, "--style-gate/--no-style-gate",
                                    help="GLM-style gate: total is 0 when the style check fails (mixed languages, "
                                    "repeated blocks)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=0,
                                          help="Scoring processes (default: all cores; 0: in this process)."),
    timeout: float = typer.Option(2.0, "--timeout", min=0.001, help="Seconds per verifier call."),
    fallback: str = typer.Option("last_line", "--fallback",
                                 help="Answer extraction fallback when there is no answer tag, box or answer "
                                 "phrase: none, last_line (the last line holding math or a number), "
                                 "last_number, full, or math (only an answer written as LaTeX: the last math "
                                 "span, inline math on one line)."),
    progress: float = typer.Option(0.0, "--progress", min=0.0, max=1.0,
                                   help="Training progress in [0, 1] for schedules (dynamic IoU)."),
    resume: bool = typer.Option(False, "--resume", help="Keep the records already in -o and score the rest."),
    metrics: Optional[str] = typer.Option(None, "--metrics", help="Run metrics JSON (default: OUT.metrics.json)."),
    reward_spec: str = typer.Option("sample", "--reward-spec",
                                    help="Who wins when a record has its own reward spec: sample (its verifier, "
                                    "weights and params; default), config (yours) or merge (key by key, yours win). "
                                    "A notice counts the records whose spec overrides a setting you gave."),
    image_root: Optional[str] = typer.Option(None, "--image-root", help="Folder that relative image paths of stdin records are relative to (default: the current folder)."),
    list_verifiers: bool = typer.Option(False, "--list-verifiers", help="List the verifiers and exit."),
    config: Optional[str] = ConfigOption,
) -> None:
    from mmrl.errors import ConfigError
    from mmrl.io.metrics import metrics_output, metrics_path_for
    from mmrl.io.paths import check_outputs
    from mmrl.rewards import RewardConfig
    from mmrl.rewards.run import run_reward
    from mmrl.rewards.scoring import parse_params, parse_weights

    if list_verifiers:
        for name, summary in _verifier_lines():
            typer.echo(f"{name:10s} {summary}")
        return
    if input is None:
        raise ConfigError("reward needs an input file (or '-' for stdin)")

    recipe = section_for(ctx.meta.get("mmrl.recipe_data") or {}, ctx.command_path.split()[1:])
    settings = {k: v for k, v in recipe.items() if k not in ("config",)}
    flags = {"verifier": verifier, "format_mode": format_mode, "format_gate": format_gate, "style_gate": style_gate,
             "workers": workers,
             "timeout": timeout, "fallback": fallback, "progress": progress, "reward_spec": reward_spec}
    given = {k for k in ("verifier", "weights") if _flag(ctx, k) or k in recipe}
    for name, value in flags.items():
        if _flag(ctx, name) or name not in settings:
            settings[name] = value
    if weights is not None and (_flag(ctx, "weights") or "weights" not in settings):
        settings["weights"] = parse_weights(weights)
    # params merge key by key: the recipe's (a mapping or KEY=VALUE list), then each --param
    params = parse_params(settings.pop("param", None) or [])
    if param and _flag(ctx, "param"):
        params.update(parse_params(param))
    settings["params"] = params
    given |= {f"param:{k}" for k in params}
    for unused in ("out", "resume", "input", "list_verifiers", "metrics", "image_root"):
        settings.pop(unused, None)
    if "start_method" not in settings and "fork" in multiprocessing.get_all_start_methods():
        settings["start_method"] = "fork"  # this process has no threads yet: instant workers
    cfg = RewardConfig.from_mapping(settings)

    metrics_path = metrics_path_for(out, metrics)
    check_outputs({"-o": out, **metrics_output(out, metrics)}, {"input": input})
    run_reward(input, out, cfg, resume=resume, metrics_path=metrics_path, image_root=image_root, given=given)


def register(app: typer.Typer) -> None:
    app.command("reward", help=_help(),
                short_help="Score rollouts with per-sample verifiers, format and style; bounded in time.")(reward)
