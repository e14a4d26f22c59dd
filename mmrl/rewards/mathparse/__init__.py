"""A safe parser and equivalence checker for mathematical answers.

Model output is parsed by a small grammar of our own into tuples (``expr``), structured into
values (``values``) and compared exactly, numerically or by identity testing at fixed points
(``equiv``); nothing in it evaluates text as code, and ``limits`` bounds every step.
"""
from mmrl.rewards.mathparse.equiv import Tolerance, equivalent, math_equal, nodes_equal
from mmrl.rewards.mathparse.expr import parse_expression
from mmrl.rewards.mathparse.limits import ParseError, TooLarge
from mmrl.rewards.mathparse.normalize import normalize, plain_number
from mmrl.rewards.mathparse.values import parse_answer

__all__ = [
    "ParseError", "Tolerance", "TooLarge", "equivalent", "math_equal", "nodes_equal", "normalize",
    "parse_answer", "parse_expression", "plain_number",
]
