"""Every values toggle rendered in both states: on adds its objects or fields, off removes them."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from charts.tests.conftest import BACKUP, BACKUP_ON, CHART, RELEASE, SAMPLE_RULES, Helm, named
from detection_ops.deploy.manifests import Manifest, of_kind, pod_specs

Check = Callable[[list[Manifest]], bool]


def kinds(*wanted: str) -> Check:
    return lambda manifests: all(of_kind(manifests, kind) for kind in wanted)


def api_pod(manifests: list[Manifest]) -> dict[str, Any]:
    return named(manifests, "Deployment", f"{RELEASE}-blue")["spec"]["template"]["spec"]


def api_env(manifests: list[Manifest]) -> dict[str, Any]:
    return {e["name"]: e for e in api_pod(manifests)["containers"][0]["env"]}


def has_tak_certs(manifests: list[Manifest]) -> bool:
    mounts = api_pod(manifests)["containers"][0]["volumeMounts"]
    return any(m["mountPath"] == "/etc/detection-api/tak" and m["readOnly"] for m in mounts)


def reads_the_tak_key_password(manifests: list[Manifest]) -> bool:
    variable = api_env(manifests).get("DETECTION_API_TAK_KEY_PASSWORD")
    reference = {"secretKeyRef": {"name": "tak-client", "key": "key-password"}}
    return variable is not None and variable["valueFrom"] == reference


def uses_iam_auth(manifests: list[Manifest]) -> bool:
    env = api_env(manifests)
    url = env["DETECTION_API_DATABASE_URL"]
    iam = env.get("DETECTION_API_DATABASE_IAM_AUTH", {}).get("value") == "true"
    return iam and url.get("value") == "postgresql://app@db.internal:5432/detection_api"


def has_irsa(manifests: list[Manifest]) -> bool:
    annotations = named(manifests, "ServiceAccount", "detection-api")["metadata"].get("annotations")
    return (annotations or {}).get("eks.amazonaws.com/role-arn") == ROLE


def anti_affinity_required(manifests: list[Manifest]) -> bool:
    return (
        "requiredDuringSchedulingIgnoredDuringExecution"
        in api_pod(manifests)["affinity"]["podAntiAffinity"]
    )


def hpa_owns_replicas(manifests: list[Manifest]) -> bool:
    hpas = of_kind(manifests, "HorizontalPodAutoscaler")
    deployment = named(manifests, "Deployment", f"{RELEASE}-blue")
    if not hpas:
        return False
    (hpa,) = hpas  # only the colour with replicas (blue) is autoscaled
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    return "replicas" not in deployment["spec"]


def runs_migrations(manifests: list[Manifest]) -> bool:
    return any(name.endswith("-migrate") for name, _ in pod_specs(manifests))


def backup_objects(manifests: list[Manifest]) -> list[Manifest]:
    """Whatever the backup brings: its CronJob, ServiceAccount and NetworkPolicy."""
    return [m for m in manifests if m["metadata"]["name"] == BACKUP]


ROLE = "arn:aws:iam::111122223333:role/detection-api-test"

# (toggle, values when on, values when off, what "on" looks like in the render)
TOGGLES: list[tuple[str, dict[str, Any], dict[str, Any], Check]] = [
    (
        "rbac.create",
        {"rbac": {"create": True}},
        {"rbac": {"create": False}},
        kinds("Role", "RoleBinding"),
    ),
    (
        "externalSecrets.enabled",
        {"externalSecrets": {"enabled": True}},
        {"externalSecrets": {"enabled": False}},
        kinds("ExternalSecret"),
    ),
    (
        "autoscaling.enabled",
        {"autoscaling": {"enabled": True}},
        {"autoscaling": {"enabled": False}},
        hpa_owns_replicas,
    ),
    (
        "migrations.enabled",
        {"migrations": {"enabled": True}},
        {"migrations": {"enabled": False}},
        runs_migrations,
    ),
    (
        "ingress.enabled",
        {"ingress": {"enabled": True}},
        {"ingress": {"enabled": False}},
        kinds("Ingress"),
    ),
    (
        "networkPolicy.enabled",
        {"networkPolicy": {"enabled": True}},
        {"networkPolicy": {"enabled": False}},
        kinds("NetworkPolicy"),
    ),
    (
        "monitoring.serviceMonitor.enabled",
        {"monitoring": {"serviceMonitor": {"enabled": True}}},
        {"monitoring": {"serviceMonitor": {"enabled": False}}},
        kinds("ServiceMonitor"),
    ),
    (
        "monitoring.prometheusRule.enabled",
        {"monitoring": {"prometheusRule": {"enabled": True}}},
        {"monitoring": {"prometheusRule": {"enabled": False}}},
        kinds("PrometheusRule"),
    ),
    (
        "monitoring.dashboards.enabled",
        {"monitoring": {"dashboards": {"enabled": True}}},
        {"monitoring": {"dashboards": {"enabled": False}}},
        lambda manifests: any(
            m["metadata"]["labels"].get("grafana_dashboard") == "1"
            for m in of_kind(manifests, "ConfigMap")
        ),
    ),
    (
        "database.iamAuth",
        {"database": {"iamAuth": True, "host": "db.internal", "user": "app"}},
        {"database": {"iamAuth": False}},
        uses_iam_auth,
    ),
    (
        "config.docsEnabled",
        {"config": {"docsEnabled": True}},
        {"config": {"docsEnabled": False}},
        lambda manifests: api_env(manifests)["DETECTION_API_DOCS_ENABLED"]["value"] == "true",
    ),
    (
        "tak.clientCertSecret",
        {"tak": {"clientCertSecret": "tak-client"}},
        {"tak": {"clientCertSecret": ""}},
        has_tak_certs,
    ),
    (
        "tak.keyPasswordKey",
        {"tak": {"clientCertSecret": "tak-client", "keyPasswordKey": "key-password"}},
        {"tak": {"clientCertSecret": "tak-client", "keyPasswordKey": ""}},
        reads_the_tak_key_password,
    ),
    (
        "serviceAccount.roleArn",
        {"serviceAccount": {"roleArn": ROLE}},
        {"serviceAccount": {"roleArn": ""}},
        has_irsa,
    ),
    (
        "backup.enabled",
        BACKUP_ON,
        {"backup": {"enabled": False}},
        lambda manifests: bool(backup_objects(manifests)),
    ),
    (
        "scheduling.podAntiAffinity",
        {"scheduling": {"podAntiAffinity": "required"}},
        {"scheduling": {"podAntiAffinity": "preferred"}},
        anti_affinity_required,
    ),
]


@pytest.mark.parametrize(
    ("on", "off", "check"), [t[1:] for t in TOGGLES], ids=[t[0] for t in TOGGLES]
)
def test_toggle_in_both_states(
    helm: Helm, rules_chart: Path, on: dict[str, Any], off: dict[str, Any], check: Check
) -> None:
    # rules_chart carries the rule and dashboard files the observability work will add.
    assert check(helm.template(None, on, chart=rules_chart)) is True
    assert check(helm.template(None, off, chart=rules_chart)) is False


def test_every_boolean_toggle_of_values_yaml_is_covered() -> None:
    def toggles(values: dict[str, Any], prefix: str = "") -> set[str]:
        found = set()
        for key, value in values.items():
            if isinstance(value, bool):
                found.add(f"{prefix}{key}")
            elif isinstance(value, dict):
                found |= toggles(value, f"{prefix}{key}.")
        return found

    declared = toggles(yaml.safe_load((CHART / "values.yaml").read_text()))
    assert declared <= {t[0] for t in TOGGLES}


def test_chart_readme_maps_every_top_level_value() -> None:
    """The README's Values table names each top-level key of values.yaml, and no other."""
    readme = (CHART / "README.md").read_text()
    section = readme.split("## Values", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    listed = {key for row in rows for key in re.findall(r"`([A-Za-z]+)`", row)}
    assert listed == set(yaml.safe_load((CHART / "values.yaml").read_text()))


@pytest.mark.parametrize(
    ("toggle", "message"),
    [
        ("prometheusRule", "files/prometheus-rules.yaml has no rule groups"),
        ("dashboards", "files/dashboards/ has no *.json dashboards"),
    ],
)
def test_monitoring_toggle_without_its_files_fails_clearly(
    helm: Helm, bare_chart: Path, toggle: str, message: str
) -> None:
    error = helm.template_error(None, {"monitoring": {toggle: {"enabled": True}}}, chart=bare_chart)
    assert message in error


def test_prometheus_rule_ships_the_rule_file_unchanged(helm: Helm, rules_chart: Path) -> None:
    manifests = helm.template(
        None, {"monitoring": {"prometheusRule": {"enabled": True}}}, chart=rules_chart
    )
    (rule,) = of_kind(manifests, "PrometheusRule")
    assert rule["spec"] == SAMPLE_RULES
