"""YAML files (recipes) read within bounds: a small document may not expand into a huge one.

``yaml.safe_load`` builds no objects but plain ones, yet an alias names a node again without
copying it: nine levels of nine aliases make a 1 KB file that every walk over the result
(key normalising, checks, printing) expands into 9**9 nodes, and an anchor that refers to itself
makes that walk endless. So the composed node graph is measured first, each node once, as large
as it would be written out: more than ``MAX_NODES`` nodes, an alias inside its own anchor,
nesting deeper than ``MAX_DEPTH`` or a file over ``MAX_BYTES`` is refused with a ConfigError
naming the file (and line) before anything is built.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mmrl.errors import ConfigError

MAX_BYTES = 1 << 20   # a recipe is a page of settings; a megabyte is far beyond any
MAX_NODES = 100_000   # scalars, lists and mappings after aliases are expanded
MAX_DEPTH = 100       # lists and mappings inside each other


def read_yaml_file(path: str | os.PathLike, what: str = "YAML file") -> Any:
    """The document of a UTF-8 YAML file (None when empty); a ConfigError ``PATH[:LINE]: reason``
    for anything unreadable, not YAML, or too large once its aliases are expanded."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(f"{path}: {what} of {size:,} bytes; more than {MAX_BYTES:,} is refused")
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        from mmrl.io.strictjson import utf8_problem

        line, reason = utf8_problem(raw, e)
        raise ConfigError(f"{path}:{line}: {reason}") from None
    return load_yaml(text, str(path))


def load_yaml(text: str, name: str) -> Any:
    """``yaml.safe_load(text)`` within the bounds of the module docstring (``name`` in messages)."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_size(node, name)
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        raise ConfigError(f"{where}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
    except RecursionError:
        raise ConfigError(f"{name}: lists or mappings nested more than {MAX_DEPTH} levels deep") from None
    finally:
        loader.dispose()


def _check_size(root, name: str) -> None:
    """Refuse a node graph that expands past MAX_NODES, refers to itself, or nests past MAX_DEPTH;
    each distinct node is visited once (its expanded size remembered), so the check is linear in
    the file, not in what it expands to."""
    import yaml

    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    open_nodes: set[int] = set()
    # iterative post-order walk: (node, children visited?)
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if isinstance(node, yaml.ScalarNode):
            sizes[key], depths[key] = 1, 0
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if done:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0)
            if sizes[key] > MAX_NODES:
                raise ConfigError(f"{name}:{node.start_mark.line + 1}: this YAML expands to more than {MAX_NODES:,} "
                                  "values once its aliases (*name) are written out; refused")
            if depths[key] > MAX_DEPTH:
                raise ConfigError(f"{name}:{node.start_mark.line + 1}: lists or mappings nested more than "
                                  f"{MAX_DEPTH} levels deep")
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConfigError(f"{name}:{node.start_mark.line + 1}: an alias refers to the anchor it is inside "
                              "(a structure that contains itself); refused")
        open_nodes.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
