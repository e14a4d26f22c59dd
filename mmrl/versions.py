"""The dependency versions mmrl supports, checked where a mismatch would fail obscurely.

``setup.cfg`` carries the same bounds for pip; this module repeats them for the packages whose
internals mmrl relies on (model forwards, KV caches, processors), so that an environment that
drifted outside them (a manual upgrade, another project's pins) gets one clear message naming
the supported range instead of a traceback deep inside transformers. ``constraints.txt`` holds
the exact versions the test suite is green on.
"""
from __future__ import annotations

from importlib import metadata

from mmrl.errors import ConfigError

# package: (lowest supported, first unsupported); keep in step with setup.cfg install_requires.
SUPPORTED: dict[str, tuple[str, str]] = {
    "transformers": ("5.16", "6"),  # 5.16: the oldest that current vLLM releases allow
    "torch": ("2.4", "3"),
    "peft": ("0.17", "1"),
}


def installed(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def check_version(package: str, version: str | None = None) -> None:
    """Raise ConfigError when ``package`` (installed, or ``version``) is outside its supported range."""
    from packaging.version import Version

    low, high = SUPPORTED[package]
    found = version if version is not None else installed(package)
    if found is None:
        raise ConfigError(f"mmrl needs {package}>={low},<{high}, which is not installed")
    release = Version(Version(found).base_version)  # 2.13.0+cpu -> 2.13.0
    if not Version(low) <= release < Version(high):
        raise ConfigError(
            f"mmrl supports {package}>={low},<{high}; found {package} {found}. "
            f"Install a supported version (pip install '{package}>={low},<{high}'), or the tested set: "
            f"pip install -c constraints.txt -e ."
        )


def check_versions() -> None:
    """Check every package in SUPPORTED that is installed (peft is optional at run time)."""
    for package in SUPPORTED:
        if package == "peft" and installed(package) is None:
            continue
        check_version(package)
