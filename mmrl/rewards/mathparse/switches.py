"""Two comparison switches other graders offer, for users who want their semantics.

Both are off the default path (``math_equal`` calls them only when asked):

- ``equal_up_to_renaming``: an answer that is the reference with its variables renamed
  (``f(y)`` for ``f(x)``, ``2a + b`` for ``2x + y``) — math-verify's ``strict=False``. mmrl's
  default is strict: a different variable is a different answer.
- ``relation_answers_set``: whether an answer written as inequalities (``-2 \\le x \\le 7``) may
  answer a reference written as a set (``x \\in [-2, 7]``). mmrl's default says yes (both are the
  same set of x); math-verify's default (``allow_set_relation_comp=False``) says no, while still
  accepting a set for a reference written as inequalities.
"""
from __future__ import annotations

from itertools import permutations

from mmrl.rewards.mathparse.expr import free_symbols
from mmrl.rewards.mathparse.values import Interval, Relation, Seq, Text, Union_, Value

MAX_RENAMED = 3  # at most 3! = 6 ways to pair the variables


def symbols_of(v: Value) -> frozenset[str]:
    """Names of the symbols anywhere in a value."""
    out: set[str] = set()
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            stack.extend(x)
        elif hasattr(x, "node"):
            out |= free_symbols(x.node)
        elif hasattr(x, "__dataclass_fields__") and not isinstance(x, Text):
            stack.extend(getattr(x, f) for f in x.__dataclass_fields__)
    return frozenset(out)


def _rename_node(node, mapping: dict[str, str]):
    if not isinstance(node, tuple) or not node:
        return node
    if node[0] == "s":
        return ("s", mapping.get(node[1], node[1]))
    return tuple(_rename_node(x, mapping) if isinstance(x, tuple) else x for x in node)


def renamed(v, mapping: dict[str, str]):
    """The value with its symbols renamed as ``mapping`` says (the texts are kept)."""
    if isinstance(v, tuple):
        return tuple(renamed(x, mapping) for x in v)
    if hasattr(v, "node"):
        return type(v)(_rename_node(v.node, mapping), *(getattr(v, f) for f in list(v.__dataclass_fields__)[1:]))
    if hasattr(v, "__dataclass_fields__") and not isinstance(v, Text):
        return type(v)(*(renamed(getattr(v, f), mapping) for f in v.__dataclass_fields__))
    return v


def renamings(gold: Value, pred: Value) -> list[dict[str, str]]:
    """Every one-to-one pairing of the answer's variables with the reference's, when both have
    the same number of them (1 to ``MAX_RENAMED``) and they are not already the same names."""
    gs, ps = sorted(symbols_of(gold)), sorted(symbols_of(pred))
    if len(gs) != len(ps) or not 1 <= len(gs) <= MAX_RENAMED or gs == ps:
        return []
    return [dict(zip(ps, order)) for order in permutations(gs)]


def written_as_set(v: Value) -> bool:
    """An interval, a tuple that may be one, or a union of them, written with brackets."""
    if isinstance(v, Interval):
        return not v.as_relation
    if isinstance(v, Seq):
        return v.kind == "tuple" and len(v.items) == 2
    if isinstance(v, Union_):
        return any(written_as_set(i) for i in v.items)
    return False


def written_as_relation(v: Value) -> bool:
    """Inequalities: ``x < 3``, ``-2 \\le x \\le 7``, ``1 \\le |z| \\le 2``."""
    if isinstance(v, Interval):
        return v.as_relation
    if isinstance(v, Relation):
        return v.op in ("<", "<=")
    if isinstance(v, Union_):
        return all(written_as_relation(i) for i in v.items)
    return False
