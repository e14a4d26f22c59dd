"""A soft per-call deadline inside one process (SIGALRM), so a slow verifier raises instead of hanging.

It interrupts Python code only; a single long C call finishes first, which is why the worker
pool also enforces a hard deadline by stopping the worker. Outside the main thread, or where
``setitimer`` does not exist, it does nothing (the pool's hard deadline still applies).
"""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class VerifierTimeout(Exception):
    """A verifier ran past its deadline."""


def _raise_timeout(signum, frame):  # pragma: no cover - runs inside a signal
    raise VerifierTimeout()


@contextlib.contextmanager
def soft_deadline(seconds: float | None) -> Iterator[None]:
    """Raise ``VerifierTimeout`` in the block after ``seconds`` (restores any previous timer)."""
    usable = (seconds is not None and seconds > 0 and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    old_delay, old_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if old_delay:
            signal.setitimer(signal.ITIMER_REAL, old_delay, old_interval)
