"""``mmrl plot``: training curves of one or more runs as a PNG."""
from __future__ import annotations

from typing import List, Optional

import typer


def plot(
    metrics_files: List[str] = typer.Argument(..., metavar="METRICS.jsonl...",
                                              help="Metrics files of warmup-sft or grpo runs (one line per step)."),
    out: str = typer.Option(..., "-o", "--out", help="The PNG to write ('-': to stdout, for a pipe; refused when "
                            "stdout is a terminal). Never one of the metrics files."),
    label: List[str] = typer.Option([], "--label", help="A name per run, in order (default: each run's folder)."),
    metric: List[str] = typer.Option([], "--metric", help="Draw this metric (repeatable); default: reward, "
                                     "accuracy per source, held-out accuracy, response length, KL, clip fraction."),
    smooth: Optional[int] = typer.Option(None, "--smooth", help="Moving-average window in steps (1 = raw; "
                                         "default: a thirtieth of the longest run)."),
    title: Optional[str] = typer.Option(None, "--title", help="A title over the panels."),
) -> None:
    """Reward, accuracy per source, response length, KL and clip fraction over steps; runs overlaid."""
    from mmrl.console import console
    from mmrl.plotting.curves import plot_runs

    from mmrl.io.paths import check_outputs, refuse_terminal

    check_outputs({"-o": out}, {f"METRICS {i + 1}": f for i, f in enumerate(metrics_files)})
    refuse_terminal(out, "-o", "a PNG")
    path = plot_runs(metrics_files, out, labels=label or None, metrics=metric or None, smooth=smooth, title=title)
    console.print(f"curves: {path}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("plot")(plot)
