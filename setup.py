"""Package discovery only; all metadata lives in setup.cfg.

The Typer layer lives in the folder ``cli/`` (fixed by the design) but installs under the
distinct import name ``mmrl_cli`` so that mmrl does not claim the generic top-level name ``cli``.
"""
from setuptools import find_packages, setup

packages = find_packages(include=["mmrl", "mmrl.*"])
packages += ["mmrl_cli"] + [f"mmrl_cli.{p}" for p in find_packages("cli")]
setup(packages=packages, package_dir={"mmrl_cli": "cli"})
