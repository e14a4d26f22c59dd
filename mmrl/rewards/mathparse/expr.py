"""A small, safe LaTeX / plain-text expression parser producing a tuple AST.

It reads the answers models write (``2x+1``, ``\\frac{\\sqrt{3}}{2}``, ``3\\pi/4``, ``2^{10}``,
``\\sin^2 x``, ``|x-1|``, ``\\log_2 8``, ``5!``, ``\\binom{5}{2}``) into nested tuples and nothing
else: no name lookup, no ``eval``, no sympy ``sympify``/``parse_expr`` of the text. Token count,
nesting depth and literal sizes are capped (``limits``), so every parse is linear and bounded.

AST nodes (plain tuples, cheap to build, hash and cache):
``("n", Fraction)`` number, ``("s", name)`` symbol, ``("c", "pi"|"e"|"inf")`` constant,
``("+", (terms...))``, ``("*", (factors...))``, ``("/", a, b)``, ``("neg", a)``, ``("^", a, b)``,
``("f", name, a)`` function (sin, cos, ..., ln, exp, sqrt, abs, floor, ceil, fact),
``("root", n, a)``, ``("log", base | None, a)``, ``("binom", n, k)``.
"""
from __future__ import annotations

import re
from fractions import Fraction

from mmrl.rewards.mathparse.limits import (
    MAX_DEPTH,
    MAX_LITERAL_DIGITS,
    MAX_LITERAL_EXPONENT,
    MAX_TOKENS,
    ParseError,
)

Node = tuple

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<cmd>\\[A-Za-z]+)"
    r"|(?P<esc>\\[{}|])"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<op>[-+*/^_!=,()\[\]{}|<>'])"
)

FUNCTIONS = {
    "sin": "sin", "cos": "cos", "tan": "tan", "cot": "cot", "sec": "sec", "csc": "csc",
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "ln": "ln", "exp": "exp", "sqrt": "sqrt",
}
GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
    "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi",
    "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega",
}
_CONST_WORDS = {"pi": "pi", "infty": "inf", "inf": "inf", "infinity": "inf"}
# Short words that are answers in their own right, never products of variables.
_ENGLISH = {"yes", "no", "odd", "not", "all", "any", "none", "and", "or", "nor", "is", "are", "the", "of", "to",
            "in", "on", "at", "it", "an", "as", "by", "if", "so", "we", "be", "can", "has", "how", "its", "was",
            "for", "but", "one", "two", "six", "ten"}
_MUL_CMDS = {"cdot", "times", "ast"}
_BAR_CMDS = {"vert", "lvert", "rvert", "mid"}


def _number(text: str) -> Node:
    mantissa, _, exp = text.lower().partition("e")
    if len(mantissa) > MAX_LITERAL_DIGITS:
        raise ParseError("number literal too long")
    if exp and abs(int(exp)) > MAX_LITERAL_EXPONENT:
        raise ParseError("number literal exponent too large")
    return ("n", Fraction(text))


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split an answer into (kind, value) tokens; kinds: num, id, cmd, op."""
    tokens: list[tuple[str, str]] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ParseError(f"unexpected character {text[pos]!r}")
        pos = m.end()
        kind, value = m.lastgroup, m.group()
        if kind == "ws":
            continue
        if kind == "cmd":
            name = value[1:]
            if name in GREEK:
                tokens.append(("id", name))
            elif name in _BAR_CMDS:
                tokens.append(("op", "|"))
            else:
                tokens.append(("cmd", name))
        elif kind == "esc":
            tokens.append(("op", value))  # \{ \} \|
        elif kind == "word":
            low = value.lower()
            if low in FUNCTIONS or low == "log":
                tokens.append(("cmd", low))
            elif low in _CONST_WORDS:
                tokens.append(("cmd", low))
            elif len(value) <= 3 and low not in _ENGLISH:
                tokens.extend(("id", c) for c in value)  # "xy" is x*y, "2ab" is 2*a*b
            else:
                raise ParseError(f"word {value!r} is text, not an expression")
        else:
            tokens.append((kind, value))
        if len(tokens) > MAX_TOKENS:
            raise ParseError("answer has too many tokens")
    return tokens


def _starts_atom(tok: tuple[str, str] | None) -> bool:
    if tok is None:
        return False
    kind, value = tok
    if kind in ("num", "id"):
        return True
    if kind == "op":
        return value in ("(", "[", "{")
    return kind == "cmd" and value not in _MUL_CMDS and value not in ("div", "pm", "mp", "cup", "cap") \
        and value not in ("le", "leq", "ge", "geq", "lt", "gt", "ne", "neq", "rfloor", "rceil")


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.pos = 0
        self.depth = 0

    # --- helpers -------------------------------------------------------------------------------
    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def next(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of answer")
        self.pos += 1
        return tok

    def at(self, kind: str, value: str | None = None) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == kind and (value is None or tok[1] == value)

    def expect(self, kind: str, value: str) -> None:
        tok = self.next()
        if tok != (kind, value):
            raise ParseError(f"expected {value!r}, got {tok[1]!r}")

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError("answer is nested too deeply")

    # --- grammar -------------------------------------------------------------------------------
    def parse(self) -> Node:
        if not self.toks:
            raise ParseError("empty answer")
        node = self.expr()
        if self.pos != len(self.toks):
            raise ParseError(f"unexpected {self.toks[self.pos][1]!r}")
        return node

    def expr(self) -> Node:
        self.enter()
        terms = [self.term()]
        while self.at("op", "+") or self.at("op", "-"):
            op = self.next()[1]
            term = self.term()
            terms.append(term if op == "+" else ("neg", term))
        self.depth -= 1
        return terms[0] if len(terms) == 1 else ("+", tuple(terms))

    def term(self) -> Node:
        return self.term_rest(self.unary())

    def term_rest(self, node: Node) -> Node:
        factors = [node]
        while True:
            tok = self.peek()
            if tok in (("op", "*"),) or (tok is not None and tok[0] == "cmd" and tok[1] in _MUL_CMDS):
                self.next()
                factors.append(self.unary())
            elif tok == ("op", "/") or tok == ("cmd", "div"):
                self.next()
                denom = self.unary()
                left = factors[0] if len(factors) == 1 else ("*", tuple(factors))
                factors = [("/", left, denom)]
            elif _starts_atom(tok):
                if tok[0] == "num" and factors[-1][0] == "n":
                    raise ParseError("two numbers side by side")
                factors.append(self.power())
            else:
                break
        return factors[0] if len(factors) == 1 else ("*", tuple(factors))

    def unary(self) -> Node:
        if self.at("op", "-"):
            self.next()
            self.enter()
            node = ("neg", self.unary())
            self.depth -= 1
            return node
        if self.at("op", "+"):
            self.next()
            return self.unary()
        return self.power()

    def power(self) -> Node:
        base = self.postfix()
        if self.at("op", "^"):
            self.next()
            self.enter()
            exponent = self.exponent()
            self.depth -= 1
            return ("^", base, exponent)
        return base

    def exponent(self) -> Node:
        if self.at("op", "-"):
            self.next()
            return ("neg", self.exponent())
        if self.at("op", "+"):
            self.next()
            return self.exponent()
        return self.power()

    def postfix(self) -> Node:
        node = self.atom()
        while self.at("op", "!") or self.at("op", "'"):
            if self.next()[1] == "'":
                raise ParseError("primes (derivatives) are not supported")
            node = ("f", "fact", node)
        return node

    def group(self, close: str) -> Node:
        node = self.expr()
        self.expect("op", close)
        return node

    def argument(self) -> Node:
        """A command argument: ``{...}``, or a single character/token as LaTeX reads it."""
        tok = self.next()
        if tok == ("op", "{"):
            return self.group("}")
        if tok[0] == "num" and len(tok[1]) > 1 and tok[1][0].isdigit():
            self.pos -= 1
            self.toks[self.pos] = ("num", tok[1][1:])  # "\frac12": the 2 stays for the next argument
            return ("n", Fraction(tok[1][0]))
        if tok[0] == "num":
            return _number(tok[1])
        if tok[0] == "id":
            return ("s", tok[1])
        if tok[0] == "cmd":
            self.pos -= 1
            return self.atom()
        raise ParseError(f"bad argument {tok[1]!r}")

    def function_argument(self) -> Node:
        """``\\sin x``, ``\\sin(x)``, ``\\sin 2x``: a group, or an implicit product of atoms."""
        if self.at("op", "(") or self.at("op", "{") or self.at("op", "["):
            close = {"(": ")", "{": "}", "[": "]"}[self.next()[1]]
            return self.group(close)
        factors = [self.power()]
        while self.at("num") or self.at("id"):
            factors.append(self.power())
        return factors[0] if len(factors) == 1 else ("*", tuple(factors))

    def atom(self) -> Node:
        self.enter()
        try:
            return self._atom()
        finally:
            self.depth -= 1

    def _atom(self) -> Node:
        kind, value = self.next()
        if kind == "num":
            return _number(value)
        if kind == "id":
            return self.symbol(value)
        if kind == "op":
            if value == "(":
                return self.group(")")
            if value == "[":
                return self.group("]")
            if value == "{":
                return self.group("}")
            if value == "|":
                return ("f", "abs", self.group("|"))
            raise ParseError(f"unexpected {value!r}")
        return self.command(value)

    def symbol(self, name: str) -> Node:
        if self.at("op", "_"):
            self.next()
            tok = self.next()
            if tok == ("op", "{"):
                parts = []
                while not self.at("op", "}"):
                    parts.append(self.next()[1])
                    if len(parts) > 8:
                        raise ParseError("subscript too long")
                self.next()
                sub = "".join(parts)
            elif tok[0] in ("num", "id"):
                sub = tok[1]
            else:
                raise ParseError("bad subscript")
            return ("s", f"{name}_{sub}")
        if name == "e":
            return ("c", "e")
        return ("s", name)

    def command(self, name: str) -> Node:
        if name == "frac":
            return ("/", self.argument(), self.argument())
        if name == "binom":
            return ("binom", self.argument(), self.argument())
        if name == "sqrt":
            if self.at("op", "["):
                self.next()
                index = self.group("]")
                return ("root", index, self.argument() if not self.at("op", "(") else self.function_argument())
            arg = self.function_argument() if self.at("op", "(") else self.argument()
            return ("f", "sqrt", arg)
        if name in ("pi", "infty", "inf", "infinity"):
            return ("c", "pi" if name == "pi" else "inf")
        if name == "log":
            base = None
            if self.at("op", "_"):
                self.next()
                base = self.argument()
            power = self.function_power()
            node = ("log", base, self.function_argument())
            return ("^", node, power) if power is not None else node
        if name in FUNCTIONS:
            power = self.function_power()
            fname = FUNCTIONS[name]
            if power == ("neg", ("n", Fraction(1))) and fname in ("sin", "cos", "tan"):
                return ("f", "a" + fname, self.function_argument())  # \sin^{-1} x is arcsin x
            node = ("f", fname, self.function_argument())
            return ("^", node, power) if power is not None else node
        if name in ("lfloor", "lceil"):
            inner = self.expr()
            self.expect("cmd", "rfloor" if name == "lfloor" else "rceil")
            return ("f", "floor" if name == "lfloor" else "ceil", inner)
        if name in ("mathrm", "operatorname", "mathit", "mathbf"):
            return self.argument()
        raise ParseError(f"unsupported command \\{name}")

    def function_power(self) -> Node | None:
        """``\\sin^2 x``: the power written between a function and its argument."""
        if not self.at("op", "^"):
            return None
        self.next()
        return self.exponent()


def parse_expression(text: str) -> Node:
    """Parse one expression (no top-level commas or relations) into an AST; ParseError if not."""
    return _Parser(tokenize(text)).parse()


def free_symbols(node: Node) -> frozenset[str]:
    """Names of the symbols an AST mentions."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, tuple) or not n:
            continue
        if n[0] == "s":
            out.add(n[1])
        elif n[0] in ("+", "*"):
            stack.extend(n[1])
        elif n[0] in ("n", "c"):
            continue
        else:
            stack.extend(x for x in n[1:] if isinstance(x, tuple))
    return frozenset(out)
