"""User verifiers for the tests, loaded as ``plugins.py:NAME`` (a file, as a user would)."""
from __future__ import annotations

import os
import signal
import time

from mmrl.rewards.base import VerifierResult

CALLS = []


def always_half(response, sample, params):
    """Half marks for anything."""
    return VerifierResult(0.5, response.strip() or None, {"bonus": 2.0})


def slow(response, sample, params):
    """Sleeps in Python code: the soft deadline interrupts it."""
    time.sleep(float(params.get("sleep", 30)))
    return VerifierResult(1.0, "late")


def stuck(response, sample, params):
    """Blocks SIGALRM and sleeps: only the pool's hard deadline can stop it."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(30)
    return VerifierResult(1.0, "late")


def crash(response, sample, params):
    """Kills its own process, as an out-of-memory kill would."""
    os.kill(os.getpid(), signal.SIGKILL)


def not_a_result(response, sample, params):
    return {"accuracy": 1.0}


def nan_accuracy(response, sample, params):
    return VerifierResult(float("nan"), None)


def pid(response, sample, params):
    """Reports the process it ran in (as a component), to prove the pool is reused."""
    return VerifierResult(1.0, None, {"pid": float(os.getpid())})


def hog(response, sample, params):
    """Allocates far more memory than a worker may use."""
    blocks = []
    for _ in range(64):
        blocks.append(bytearray(256 * 1024 * 1024))
    return VerifierResult(1.0, str(len(blocks)))
