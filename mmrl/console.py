"""Terminal output on stderr: logs, tables and progress bars never touch stdout (pure JSONL)."""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

console = Console(stderr=True)
log = logging.getLogger("mmrl")


def setup_logging(level: str = "INFO") -> None:
    """Route the ``mmrl`` logger to stderr: rich on a terminal, plain unwrapped lines otherwise
    (so logs captured by CI or a file keep whole paths on one line). Idempotent."""
    for h in list(log.handlers):
        if getattr(h, "_mmrl", False):
            log.removeHandler(h)
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False, rich_tracebacks=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler._mmrl = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(level.upper())


PLAIN_PROGRESS_SECONDS = 10.0


def make_progress(*extra_columns, enabled: bool = True, interval: float | None = None) -> Progress:
    """Progress on stderr: a live bar on a terminal; elsewhere (a log file, CI, nohup) a plain line
    every ``interval`` seconds (``MMRL_PROGRESS_SECONDS``, default 10) and one when a task ends, so
    a long run never looks dead. ``enabled=False`` shows nothing (other processes of a launch)."""
    columns = (SpinnerColumn(), TextColumn("[progress.description]{task.description}"), BarColumn(),
               MofNCompleteColumn(), *extra_columns, TimeElapsedColumn(), TimeRemainingColumn())
    if enabled and not console.is_terminal:
        import os

        every = interval if interval is not None else float(os.environ.get("MMRL_PROGRESS_SECONDS",
                                                                         PLAIN_PROGRESS_SECONDS))
        return PlainProgress(*columns, extra=extra_columns, interval=every)
    return Progress(*columns, console=console, transient=False, disable=not enabled or not console.is_terminal)


class PlainProgress(Progress):
    """A Progress that draws no bar and prints ``DESC: N/TOTAL (P%) EXTRA, elapsed E, ETA R`` lines."""

    def __init__(self, *columns, extra: tuple = (), interval: float = PLAIN_PROGRESS_SECONDS):
        super().__init__(*columns, console=console, disable=True)
        self.extra, self.interval = extra, interval
        self._printed: dict = {}

    def line(self, task_id) -> str:
        """The plain progress line of a task."""
        task = self._tasks[task_id]
        done = f"{task.completed:,.0f}"
        if task.total:
            done += f"/{task.total:,.0f} ({100 * task.completed / task.total:.0f}%)"
        extra = " ".join(str(col.render(task)) for col in self.extra if isinstance(col, TextColumn)).strip()
        eta = task.time_remaining
        tail = f"elapsed {_seconds(task.elapsed or 0.0)}" + (f", ETA {_seconds(eta)}" if eta is not None else "")
        return f"{task.description}: {done}" + (f" {extra}" if extra else "") + f", {tail}"

    def _maybe_print(self, task_id, at_end: bool = False) -> None:
        import time

        task = self._tasks.get(task_id)
        if task is None or not task.started:
            return
        now = time.monotonic()
        last_time, last_done = self._printed.get(task_id, (task.start_time, None))
        if last_done == task.completed:
            return  # nothing new since the last line
        finished = task.total is not None and task.completed >= task.total
        if at_end or finished or now - last_time >= self.interval:
            console.print(self.line(task_id), markup=False, highlight=False, soft_wrap=True)
            self._printed[task_id] = (now, task.completed)

    def update(self, task_id, **kwargs) -> None:  # type: ignore[override]
        super().update(task_id, **kwargs)
        self._maybe_print(task_id)

    def advance(self, task_id, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._maybe_print(task_id)

    def stop(self) -> None:
        for task_id in list(self._tasks):
            if self._tasks[task_id].completed:
                self._maybe_print(task_id, at_end=True)
        super().stop()


def _seconds(value: float) -> str:
    value = int(round(value))
    h, rest = divmod(value, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate with a progress bar on stderr."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with make_progress() as progress:
        task = progress.add_task(description, total=total)
        for item in items:
            yield item
            progress.advance(task)
