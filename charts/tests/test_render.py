"""The chart lints, renders for every environment and colour, and validates against real schemas."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts.tests.conftest import (
    BACKUP_ON,
    BACKUP_VALUES,
    COLORS,
    CRD_KINDS,
    ENVIRONMENTS,
    CrdValidator,
    Helm,
    run,
)
from detection_ops.deploy.manifests import Manifest, pod_specs

# Toggles switched on together: the widest render, validated and scanned like the environments.
ALL_ON: dict[str, Any] = {
    "rbac": {"create": True},
    "autoscaling": {"enabled": True},
    "ingress": {"enabled": True, "tlsSecretName": "detection-api-tls"},
    "externalSecrets": {"enabled": True},
    "monitoring": {"serviceMonitor": {"enabled": True}},
    "tak": {
        "clientCertSecret": "tak-client",
        "destinations": [{"name": "tak-a", "url": "tls://tak-a:8089", "cidrs": ["10.0.4.1/32"]}],
    },
    "networkPolicy": {
        "postgresCidrs": ["10.0.1.0/24"],
        "redisCidrs": ["10.0.2.0/24"],
        "awsEndpointCidrs": ["10.0.3.0/24"],
    },
    "backup": BACKUP_VALUES,
}


@pytest.mark.parametrize("environment", [None, *ENVIRONMENTS])
def test_helm_lint_strict_passes(helm: Helm, environment: str | None) -> None:
    output = helm.lint(environment)
    assert "0 chart(s) failed" in output


def test_every_environment_and_colour_renders(
    renders: dict[tuple[str, str], list[Manifest]],
) -> None:
    assert set(renders) == {(env, color) for env in ENVIRONMENTS for color in COLORS}
    for manifests in renders.values():
        kinds = {m["kind"] for m in manifests}
        assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} <= kinds
        assert len([m for m in manifests if m["kind"] == "Deployment"]) == 2


def write_core_manifests(manifests: list[Manifest], path: Path) -> Path:
    """Write the non-CRD objects as one multi-document file for kubernetes-validate."""
    core = [m for m in manifests if m["kind"] not in CRD_KINDS]
    path.write_text(yaml.safe_dump_all(core))
    return path


def test_renders_validate_against_kubernetes_1_33_schemas(
    renders: dict[tuple[str, str], list[Manifest]],
    helm: Helm,
    require_tool: Callable[[str], str],
    tmp_path: Path,
) -> None:
    validator = require_tool("kubernetes-validate")
    every = {f"{env}-{color}": m for (env, color), m in renders.items()}
    every["all-toggles-on"] = helm.template(None, ALL_ON)
    every["dev-with-backup"] = helm.template("dev", BACKUP_ON)  # staging/production have it on
    files = [write_core_manifests(m, tmp_path / f"{name}.yaml") for name, m in every.items()]
    result = run([validator, "-k", "1.33.0", "--strict", *map(str, files)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Couldn't find schema" not in output, output
    passed = output.count(" passed for resource ")
    assert passed == sum(
        len([m for m in ms if m["kind"] not in CRD_KINDS]) for ms in every.values()
    )


def test_crd_objects_validate_against_operator_schemas(
    helm: Helm, crd_validator: CrdValidator, rules_chart: Path
) -> None:
    values = {**ALL_ON, "monitoring": {"serviceMonitor": {"enabled": True}}}
    values["monitoring"]["prometheusRule"] = {"enabled": True}
    manifests = helm.template("production", values, chart=rules_chart)
    crds = [m for m in manifests if m["kind"] in CRD_KINDS]
    assert {m["kind"] for m in crds} == CRD_KINDS
    assert crd_validator.errors(crds) == []


def test_crd_validation_rejects_a_broken_object(helm: Helm, crd_validator: CrdValidator) -> None:
    """The validator can fail: a wrongly typed field and an unknown kind are both reported."""
    monitor = next(m for m in helm.template("production", ALL_ON) if m["kind"] == "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["interval"] = 30
    unknown = {"apiVersion": "example.com/v1", "kind": "Unknown", "metadata": {"name": "x"}}
    errors = crd_validator.errors([monitor, unknown])
    assert [e["kind"] for e in errors] == ["ServiceMonitor", "Unknown"]
    assert "interval" in errors[0]["error"]
    assert "no schema" in errors[1]["error"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unknownKey": 1}, "additional properties 'unknownKey' not allowed"),
        ({"activeColor": "red"}, "activeColor"),
        ({"colors": {"blue": {"replicaCount": 2}}}, "colors.blue.replicaCount (2) must be 0 or"),
        ({"colors": {"blue": {"replicaCount": 0}}}, "colors.blue.replicaCount must be > 0"),
        ({"terminationGracePeriodSeconds": 30}, "terminationGracePeriodSeconds (30) must exceed"),
        ({"autoscaling": {"enabled": True, "minReplicas": 2}}, "autoscaling.minReplicas (2)"),
        ({"database": {"iamAuth": True}}, "database.host is required"),
        (
            {"tak": {"destinations": [{"name": "t", "url": "tak:8089", "cidrs": ["10.0.0.1/32"]}]}},
            "url",
        ),
        ({"networkPolicy": {"postgresCidrs": ["10.0.0.0"]}}, "postgresCidrs"),
        ({"serviceAccount": {"roleArn": "admin"}}, "roleArn"),
        ({"tak": {"keyPasswordKey": "pw"}}, "tak.keyPasswordKey needs tak.clientCertSecret"),
    ],
    ids=[
        "unknown-key",
        "bad-colour",
        "replicas-block-drains",
        "active-colour-without-pods",
        "grace-shorter-than-drain",
        "hpa-below-pdb",
        "iam-auth-without-host",
        "tak-url-without-scheme",
        "cidr-without-prefix",
        "role-arn-not-an-arn",
        "tak-key-password-without-its-secret",
    ],
)
def test_bad_values_fail_with_a_clear_message(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    assert message in helm.template_error(None, values)


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_staging_and_production_require_digest_pinned_images(helm: Helm, environment: str) -> None:
    error = helm.template_error(environment, {"colors": {"blue": {"digest": ""}}})
    assert f"colors.blue.digest is required in {environment}" in error


def test_production_refuses_development_settings(helm: Helm) -> None:
    assert "config.docsEnabled must be false" in helm.template_error(
        "production", {"config": {"docsEnabled": True}}
    )
    assert "config.rateLimitStorage must be shared" in helm.template_error(
        "production", {"config": {"rateLimitStorage": "memory://"}}
    )


def test_images_are_digest_pinned_when_a_digest_is_given(
    renders: dict[tuple[str, str], list[Manifest]],
) -> None:
    """Every workload, the backup CronJob included (its digest comes from the values files)."""
    for manifests in renders.values():
        for name, pod in pod_specs(manifests):
            image = pod["containers"][0]["image"]
            assert "@sha256:" in image, (name, image)
