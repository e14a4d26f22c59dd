"""A stage's settings as a recipe file: what ``mmrl --config FILE CMD`` reads, one line per value
the stage is given, each saying where it came from (``# recipe vtriune.yaml:23``, ``# --set``)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mmrl.recipes.document import Key
from mmrl.recipes.resolve import Setting
from mmrl.recipes.schema import ALLOW_VERIFIER


def scalar(value: Any) -> str:
    """A value as one line of YAML (JSON is YAML: strings quoted, lists and mappings in flow style)."""
    return json.dumps(value, ensure_ascii=False)


def settings_yaml(section: Key, settings: Mapping[str, Setting], allow_verifier: Any = None,
                  stage: str = "") -> str:
    lines = [f"# settings of stage {stage or '.'.join(section)}, written by mmrl recipe run"]
    if allow_verifier is not None:
        lines.append(f"{ALLOW_VERIFIER}: {scalar(allow_verifier)}")
    for depth, name in enumerate(section):
        lines.append("  " * depth + f"{name}:")
    indent = "  " * len(section)
    given = {k: s for k, s in settings.items() if s.explicit}
    if not given:
        lines[-1] += " {}"
    for key, s in given.items():
        lines.append(f"{indent}{key}: {scalar(s.value)}   # {s.source}")
    return "\n".join(lines) + "\n"
