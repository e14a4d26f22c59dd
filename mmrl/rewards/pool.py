"""A pool of scoring processes with a deadline per record, kept alive across calls.

Each worker scores the records it is sent one by one and answers each as soon as it is done. Two
deadlines bound every record: the soft one inside the worker (SIGALRM at ``timeout``) turns a slow
verifier into an ``error`` and keeps the worker; the hard one in the parent (``timeout`` plus a
grace period without an answer) stops a worker stuck in C code or killed by its memory limit,
gives that record an ``error``, starts a fresh worker and re-sends the rest of its batch. Results
come back in input order, and input is read lazily with a bounded window, so a file of any size
streams through in constant memory.

Workers start with ``forkserver`` (``spawn`` where unavailable) unless ``start_method`` says
otherwise: safe to use from a trainer that already runs threads or CUDA, where plain ``fork`` is
not. A single-threaded program (the CLI) may choose ``fork``, which starts workers at once. Verifiers registered in the
calling process are sent to the workers by reference; ``file.py:function`` names are loaded there.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import pickle
import signal
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from mmrl.errors import ConfigError
from mmrl.rewards.base import VERIFIERS
from mmrl.rewards.scoring import RewardConfig, failed_updates, merge, score_updates, with_progress

class ScoringJob(Protocol):
    """What the pool runs on each record: the fields to add, and the fields when that failed.

    The default job scores rewards; ``mmrl eval`` runs its benchmark scorers through the same
    pool (same deadlines, memory cap and crash recovery) with a job of its own. A job crosses to
    the workers by pickling, so it must be a module-level class instance.
    """

    def updates(self, record: Mapping[str, Any], config: RewardConfig) -> dict[str, Any]: ...

    def failed(self, record: Mapping[str, Any], config: RewardConfig, reason: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RewardJob:
    """The reward library's own job: ``extracted``, ``rewards`` and maybe ``error``."""

    def updates(self, record: Mapping[str, Any], config: RewardConfig) -> dict[str, Any]:
        return score_updates(record, config)

    def failed(self, record: Mapping[str, Any], config: RewardConfig, reason: str) -> dict[str, Any]:
        return failed_updates(record, config, reason)


CHUNK = 16  # records sent to a worker at once
WINDOW_PER_WORKER = 8 * CHUNK  # records read ahead of the output, per worker
READY = "ready"  # a worker's message: started, or installed a new config's verifiers
STARTUP_LIMIT = 120.0  # seconds a worker may take to start or import plugins before it is stopped


def _builtin_names() -> frozenset[str]:
    import mmrl.rewards  # noqa: F401 - registers the built-in verifiers

    return frozenset(n for n in VERIFIERS.names() if VERIFIERS.get(n).__module__.startswith("mmrl.rewards"))


def _portable_verifiers() -> dict[str, tuple[str, Any]]:
    """How workers get the verifiers this process registered beyond the built-in ones.

    ``("module", name)``: importing that module registers it (benchmark scorers, plugins);
    ``("ref", None)``: a ``file.py:function`` name the worker loads itself; ``("fn", f)``: a
    module-level function sent by reference. Anything else cannot cross a process boundary.
    """
    builtin = _builtin_names()
    out: dict[str, tuple[str, Any]] = {}
    for name in VERIFIERS.names():
        if name in builtin:
            continue
        if ":" in name:
            out[name] = ("ref", None)
            continue
        fn = VERIFIERS.get(name)
        module = getattr(fn, "__module__", None) or ""
        spec = getattr(sys.modules.get(module), "__spec__", None)
        if module and module != "__main__" and spec is not None and spec.origin and \
                not module.startswith("mmrl_user_"):
            out[name] = ("module", module)
            continue
        try:
            pickle.dumps(fn)
        except Exception:  # noqa: BLE001
            raise ConfigError(f"verifier {name!r} cannot be sent to worker processes (define it at module "
                              f"level, name it as file.py:function, or use workers=0)") from None
        out[name] = ("fn", fn)
    return out


def _install_verifiers(verifiers: Mapping[str, tuple[str, Any]]) -> None:
    """Worker side of ``_portable_verifiers`` (a failure shows later as that verifier's error)."""
    for name, (kind, value) in verifiers.items():
        if name in VERIFIERS:
            continue
        try:
            if kind == "module":
                importlib.import_module(value)
            elif kind == "ref":  # the parent loaded it from a trusted name (flag, recipe, library)
                VERIFIERS.load(name)
            elif kind == "fn":
                VERIFIERS.add(name, value, replace=True)
        except Exception:  # noqa: BLE001 - reported per record as an unknown or failing verifier
            continue


def _limit_memory(megabytes: int | None) -> None:
    """Cap the worker's address space at its size at start plus ``megabytes``, so a runaway
    verifier gets MemoryError (an error record) instead of exhausting the machine. The cap is
    headroom above the start size because a forked worker starts as large as its parent."""
    if not megabytes:
        return
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as f:
            current = int(f.read().split()[0]) * resource.getpagesize()
        limit = current + megabytes * 1024 * 1024
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError, IndexError):  # pragma: no cover - not Linux, or not allowed
        pass


def worker_main(conn: Connection, memory_limit_mb: int | None) -> None:
    """Worker loop: receive ``(config, verifiers, job, [(key, record), ...])``, answer ``(key, updates)``.

    ``key`` is the parent's ``(call, index)`` tag, returned unchanged so that every answer is tied
    to the request it answers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_limit_mb)
    import mmrl.rewards  # noqa: F401 - registers the built-in verifiers

    conn.send(READY)  # start-up is over: the records' deadlines start now
    config = RewardConfig(workers=0)
    job: ScoringJob = RewardJob()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        new_config, verifiers, new_job, items = message
        if new_config is not None:
            config, job = new_config, new_job
            _install_verifiers(verifiers or {})
            conn.send(READY)  # plugins imported: their import time is not a record's
        for key, record in items:
            try:
                updates = job.updates(record, config)
            except BaseException as e:  # noqa: BLE001 - MemoryError, a late alarm: still an answer
                updates = job.failed(record, config, f"scoring failed: {type(e).__name__}: {e}")
            conn.send((key, updates))


class _Worker:
    def __init__(self, ctx: Any, memory_limit_mb: int | None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, memory_limit_mb), daemon=True,
                                name="mmrl-reward-worker")
        self.proc.start()
        child.close()
        self.queue: deque[tuple[int, int]] = deque()  # (call, index) of each record sent, in order
        self.version = -1
        self.since = time.monotonic()
        self.starting = 1  # READY messages still due: start-up, then one per new config

    def send(self, config: RewardConfig | None, verifiers: dict[str, Any] | None, job: ScoringJob | None,
             items: list) -> None:
        self.conn.send((config, verifiers, job, items))
        self.since = time.monotonic()
        self.starting += config is not None

    def deadline(self, hard_limit: float) -> float:
        """When the head record has taken too long. While the worker starts (imports mmrl, a
        plugin) the limit is ``STARTUP_LIMIT``: a loaded machine's slow start is not a slow record."""
        return self.since + (max(hard_limit, STARTUP_LIMIT) if self.starting else hard_limit)

    def stop(self, kill: bool = False) -> None:
        if not kill and self.proc.is_alive():
            try:
                self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            self.proc.join(timeout=1.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5.0)
        self.conn.close()


def check_main_reimportable(method: str) -> None:
    """Workers started by ``spawn`` or ``forkserver`` import the caller's main script again; a
    script read from stdin (``python - < script.py``) cannot be read again, and every worker would
    die at start (every record an error). Refused with what to do instead."""
    main = sys.modules.get("__main__")
    if getattr(getattr(main, "__spec__", None), "name", None) is not None:
        return  # python -m module: re-imported by name
    path = getattr(main, "__file__", None)
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"the reward pool starts its workers with {method}, which imports the main script again, "
                          f"and the main script ({path}) cannot be read again (a script read from stdin?): save it "
                          "to a file and run that, or score in this process (RewardConfig(workers=0))")


class RewardScorer:
    """Scores batches of records through one long-lived worker pool.

    ``with RewardScorer(config) as s: scored = s.score(records, progress=0.3)``: the pool starts on
    first use and stays up until ``close()``, so an RL trainer pays start-up once, not every step.
    With ``config.workers == 0`` records are scored in this process instead. ``job`` replaces
    reward scoring with another per-record job run under the same bounds (see ``ScoringJob``).
    """

    def __init__(self, config: RewardConfig | None = None, job: ScoringJob | None = None):
        self.config = config or RewardConfig()
        self.job: ScoringJob = job or RewardJob()
        self._workers: list[_Worker] = []
        self._ctx: Any = None
        self._version = 0

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers now (else on first use); a no-op when running or with workers=0."""
        if self.config.pool_size > 0:
            self._start()

    def _start(self) -> None:
        if self._workers:
            return
        method = self.config.start_method
        if method is None:
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        if method in ("spawn", "forkserver"):
            check_main_reimportable(method)
        self._ctx = mp.get_context(method)
        if method == "forkserver":
            self._ctx.set_forkserver_preload(["mmrl.rewards"])
        self._workers = [_Worker(self._ctx, self.config.memory_limit_mb) for _ in range(self.config.pool_size)]

    def close(self) -> None:
        for w in self._workers:
            w.stop()
        self._workers = []

    def __enter__(self) -> RewardScorer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort when close() was forgotten
        for w in getattr(self, "_workers", []):
            if w.proc.is_alive():
                w.proc.kill()

    # --- scoring -------------------------------------------------------------------------------
    def score(self, records: Iterable[Mapping[str, Any]], progress: float | None = None) -> list[dict[str, Any]]:
        """Score records (in order); ``progress`` overrides the config's training progress."""
        return list(self.iter_score(records, progress))

    def iter_score(self, records: Iterable[Mapping[str, Any]], progress: float | None = None) -> Iterator[dict[str, Any]]:
        """Score records lazily, yielding each scored record in input order.

        Each call is numbered and every record sent to a worker carries ``(call, index)``; answers
        that belong to an earlier call (one whose iterator was abandoned) are dropped on arrival,
        so no call ever receives another call's results."""
        config = with_progress(self.config, progress)
        if config.pool_size == 0:
            for record in records:
                yield merge(record, self.job.updates(record, config))
            return
        self._start()
        self._version += 1
        yield from self._run(records, config, self._version, _portable_verifiers())

    def _replace(self, w: _Worker) -> _Worker:
        w.stop(kill=True)
        fresh = _Worker(self._ctx, self.config.memory_limit_mb)
        self._workers[self._workers.index(w)] = fresh
        return fresh

    def _run(self, records: Iterable[Mapping[str, Any]], config: RewardConfig, version: int,
             verifiers: dict[str, Any]) -> Iterator[dict[str, Any]]:
        source = enumerate(records)
        window = WINDOW_PER_WORKER * len(self._workers)
        hard_limit = config.timeout + max(1.0, config.timeout)
        originals: dict[int, Mapping[str, Any]] = {}
        pending: deque[int] = deque()
        done: dict[int, dict[str, Any]] = {}
        next_out, exhausted = 0, False
        while True:
            while not exhausted and len(originals) < window:
                try:
                    index, record = next(source)
                except StopIteration:
                    exhausted = True
                    break
                originals[index] = record
                pending.append(index)
            for w in self._workers:
                if not w.queue and pending:
                    batch = [(version, pending.popleft()) for _ in range(min(CHUNK, len(pending)))]
                    fresh = w.version != version
                    w.send(config if fresh else None, verifiers if fresh else None, self.job if fresh else None,
                           [(key, originals[key[1]]) for key in batch])
                    w.version = version
                    w.queue.extend(batch)
            while next_out in done:
                yield merge(originals.pop(next_out), done.pop(next_out))
                next_out += 1
                if version != self._version:
                    raise RuntimeError("this scoring iterator was superseded by a later call on the same RewardScorer")
            if exhausted and not originals:
                return
            busy = [w for w in self._workers if w.queue]
            if not busy:
                continue
            now = time.monotonic()
            wait_for = max(0.0, min(w.deadline(hard_limit) for w in busy) - now)
            ready = set(wait([w.conn for w in busy], timeout=wait_for))
            for w in busy:
                if w.conn not in ready:
                    continue
                try:
                    while w.queue and w.conn.poll():
                        message = w.conn.recv()
                        if message == READY:
                            w.starting, w.since = w.starting - 1, time.monotonic()
                            continue
                        key, updates = message
                        if w.queue.popleft() != key:  # pragma: no cover - a worker answers in order
                            raise RuntimeError(f"reward worker answered {key} out of order")
                        w.since = time.monotonic()
                        if key[0] == version:  # else an abandoned call's answer: dropped
                            done[key[1]] = updates
                except (EOFError, OSError):
                    self._fail_head(w, config, originals, pending, done,
                                    f"worker crashed (exit code {w.proc.exitcode}) while scoring this record")
            now = time.monotonic()
            for w in list(self._workers):
                if w.queue and now > w.deadline(hard_limit):
                    self._fail_head(w, config, originals, pending, done,
                                    f"timeout: scoring took more than {config.timeout:g}s; the worker was stopped")

    def _fail_head(self, w: _Worker, config: RewardConfig, originals: dict, pending: deque, done: dict,
                   reason: str) -> None:
        """The worker's current record failed: record the error, re-queue the rest, restart it.

        Records of an abandoned call in the worker's queue are forgotten, not re-sent."""
        if w.queue:
            (call, head) = w.queue.popleft()
            if call == self._version:
                done[head] = self.job.failed(originals[head], config, reason)
            pending.extendleft(reversed([i for c, i in w.queue if c == self._version]))
            w.queue.clear()
        self._replace(w)
