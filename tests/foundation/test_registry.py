"""Registries: decorators, user code by FILE.py:NAME, clear misses."""
from __future__ import annotations

import pytest

from mmrl.errors import ConfigError
from mmrl.registry import Registry


def test_decorator_registers_under_the_name():
    reg: Registry = Registry("widget")

    @reg.register("double")
    def double(x):
        return 2 * x

    assert reg.get("double")(3) == 6 and "double" in reg and reg.names() == ["double"]


def test_unknown_name_lists_the_known_ones():
    reg: Registry = Registry("widget")
    reg.add("a", 1)
    with pytest.raises(ConfigError, match="unknown widget 'b'; known: a"):
        reg.get("b")


def test_name_clash_is_refused():
    reg: Registry = Registry("widget")
    reg.add("a", 1)
    with pytest.raises(ConfigError, match="already registered"):
        reg.add("a", 2)


def test_user_function_from_a_file(tmp_path):
    f = tmp_path / "mine.py"
    f.write_text("def score(x):\n    return x + 1\n")
    reg: Registry = Registry("widget")
    assert reg.get(f"{f}:score")(1) == 2


def test_user_function_from_a_module():
    reg: Registry = Registry("widget")
    assert reg.get("os.path:join")("a", "b") == "a/b"


def test_bad_references_are_config_errors(tmp_path):
    reg: Registry = Registry("widget")
    with pytest.raises(ConfigError, match="no such file"):
        reg.get(f"{tmp_path}/none.py:f")
    (tmp_path / "m.py").write_text("x = 1\n")
    with pytest.raises(ConfigError, match="has no attribute 'f'"):
        reg.get(f"{tmp_path}/m.py:f")
