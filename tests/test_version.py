"""One version number: Cargo.toml's, in posbridge.__version__ and in the installed distribution's
metadata (the wheel's), the same in the sdist and wheels `make wheelhouse` builds
(scripts/check_wheels.py checks those)."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import posbridge

ROOT = Path(__file__).resolve().parent.parent


def cargo_version() -> str:
    m = re.search(r'(?m)^version\s*=\s*"([^"]+)"', (ROOT / "Cargo.toml").read_text())
    assert m
    return m.group(1)


def test_version_is_cargo_tomls() -> None:
    assert posbridge.__version__ == cargo_version()


def test_version_is_the_installed_distributions() -> None:
    assert posbridge.__version__ == version("posbridge")


def test_changelog_has_this_version() -> None:
    assert re.search(rf"(?m)^## {re.escape(cargo_version())}\b", (ROOT / "CHANGELOG.md").read_text())
