"""Shared test fixtures for every area of the monorepo."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def require_tool() -> Callable[[str], str]:
    """Return the path of an external tool; skip locally when missing, fail in CI.

    `uv run inv tools` installs pinned copies into `.tools/bin`, which is searched first.
    """

    def find(name: str) -> str:
        path = shutil.which(name, path=f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        if path:
            return path
        message = f"{name} not found: run `uv run inv tools` to install it into .tools/bin"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)

    return find
