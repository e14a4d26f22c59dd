"""Supported dependency versions: the installed set is inside them, and a drift fails clearly."""
from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from mmrl.errors import ConfigError
from mmrl.versions import SUPPORTED, check_version, check_versions, installed

ROOT = Path(__file__).resolve().parents[2]


def test_the_installed_versions_are_supported():
    check_versions()  # fails loudly, naming the package and range, when an install drifted


@pytest.mark.parametrize("package", sorted(SUPPORTED))
def test_setup_cfg_states_the_same_bounds(package):
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    low, high = SUPPORTED[package]
    lines = [line.strip() for line in cfg["options"]["install_requires"].splitlines()]
    assert f"{package}>={low},<{high}" in lines


def test_a_version_below_the_range_names_the_supported_range():
    with pytest.raises(ConfigError, match=r"transformers>=5\.16,<6; found transformers 4\.57\.1"):
        check_version("transformers", "4.57.1")


def test_a_version_above_the_range_is_refused():
    with pytest.raises(ConfigError, match="supports torch"):
        check_version("torch", "3.0.0")


def test_local_version_labels_are_ignored():
    check_version("torch", "2.13.0+cpu")


def test_constraints_pin_every_supported_package_inside_its_range():
    pins = dict(line.split("==", 1) for line in (ROOT / "constraints.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    pins = {k.lower(): v for k, v in pins.items()}
    for package in SUPPORTED:
        check_version(package, pins[package])
    assert installed("transformers") is not None


def test_the_vllm_extra_allows_a_release_that_installs_beside_the_transformers_floor():
    """vLLM 0.33 (the newest the extra allows) caps transformers below 5.21: the floor is under it."""
    from packaging.version import Version

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    vllm = [line.strip() for line in cfg["options.extras_require"]["vllm"].splitlines() if line.strip().startswith("vllm")]
    assert vllm == ["vllm>=0.19.1,<0.34"]
    assert Version(SUPPORTED["transformers"][0]) < Version("5.21")
