"""Looking up a verifier by name, wherever a name is given: a record's ``reward.verifier``, a
flag, a recipe. Besides the built-in verifiers, other modules of this build register some (each
benchmark scorer of ``mmrl.eval``); they are imported on the first name not found."""
from __future__ import annotations

import importlib
import importlib.util

from mmrl.rewards.base import VERIFIERS, Verifier

# Modules whose import registers more verifiers; absent ones are skipped.
PLUGIN_MODULES = ("mmrl.eval.verifiers",)


def load_plugins() -> None:
    """Import the plugin modules this build has (idempotent)."""
    for module in PLUGIN_MODULES:
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:
            found = False
        if found:
            try:
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - a broken plugin must not take the command down
                continue


def resolve_verifier(name: str) -> Verifier:
    """The verifier a name stands for (``path/file.py:fn`` loads user code); ConfigError if none."""
    if name not in VERIFIERS and ":" not in name:
        load_plugins()
    return VERIFIERS.get(name)
