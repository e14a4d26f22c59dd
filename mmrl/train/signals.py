"""Stop requests: SIGINT/SIGTERM let the step in flight finish, so the run can leave a checkpoint."""
from __future__ import annotations

from typing import Any

from mmrl.console import log


class StopRequest:
    """SIGINT/SIGTERM set a flag instead of killing the run, so the trainer can finish its step and
    leave a resumable checkpoint; a second SIGINT stops at once. Use as a context manager."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        import signal

        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        log.warning("%s: finishing this step, then saving a checkpoint (Ctrl-C again to stop at once)",
                    self.requested)

    def __enter__(self) -> StopRequest:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        import signal

        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
