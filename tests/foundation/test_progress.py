"""Off a terminal, long work prints a plain progress line now and then instead of a live bar."""
from __future__ import annotations

from rich.progress import TextColumn

from mmrl.console import PlainProgress, console, make_progress


def run(progress, steps=3, total=10):
    with console.capture() as captured:
        with progress:
            task = progress.add_task("warmup-sft", total=total, loss=float("nan"))
            for i in range(steps):
                progress.update(task, completed=i + 1, loss=1.5 - i * 0.25)
    return captured.get()


def test_off_a_terminal_the_progress_is_plain_lines():
    assert not console.is_terminal  # pytest captures stderr
    assert isinstance(make_progress(), PlainProgress)


def test_each_line_says_the_step_the_fields_and_the_time_left():
    text = run(make_progress(TextColumn("loss {task.fields[loss]:.4f}"), interval=0))
    lines = text.strip().splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith("warmup-sft: 3/10 (30%) loss 1.0000, elapsed ")


def test_a_long_interval_still_prints_the_last_state_at_the_end():
    lines = run(make_progress(interval=3600)).strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warmup-sft: 3/10 (30%)")


def test_a_finished_task_prints_once():
    lines = run(make_progress(interval=3600), steps=10).strip().splitlines()
    assert len(lines) == 1 and "10/10 (100%)" in lines[0]


def test_a_disabled_progress_prints_nothing():
    assert run(make_progress(interval=0, enabled=False)) == ""
