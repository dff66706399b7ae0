"""Policy tests on the rendered manifests: one per production-readiness checklist item of the chart.

Each test runs over every environment rendered with each active colour (plus the widest render
where a toggle matters), so a value file cannot quietly weaken a guarantee.
"""

from __future__ import annotations

import re

import pytest

from charts.tests.conftest import (
    BACKUP,
    CHART,
    RELEASE,
    Helm,
    Renders,
    api_deployments,
    app_pods,
    env_of,
    every_pod,
    named,
)
from detection_ops.deploy.manifests import Manifest, of_kind, pod_specs

# ---------------------------------------------------------------------------------------------
# Security
# ---------------------------------------------------------------------------------------------


def test_pod_security_context_non_root_dropped_capabilities_seccomp(renders: Renders) -> None:
    """Pod Security Standard `restricted` (+ read-only root filesystem) on every pod, hooks too."""
    pods = list(every_pod(renders))
    assert len(pods) >= 18  # 6 renders x (2 Deployments + migration Job)
    for where, pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] == POD_USER, where
        assert pod["securityContext"]["runAsGroup"] == POD_USER, where
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            assert not pod.get(key), (where, key)
        assert not any("hostPath" in v for v in pod.get("volumes", [])), where
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["privileged"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"] == {"drop": ["ALL"]}, where
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where


def test_writable_paths_are_emptydir_volumes_only(renders: Renders) -> None:
    """The service writes /tmp and its data folder; the backup only /tmp (its dump)."""
    for where, pod in every_pod(renders):
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
        writable = {path for path, m in mounts.items() if not m.get("readOnly")}
        expected = {"/tmp"} if where.endswith(f"/{BACKUP}") else {"/tmp", "/var/lib/detection-api"}  # noqa: S108 - paths in the container
        assert writable == expected, where
        assert all("emptyDir" in volumes[mounts[path]["name"]] for path in writable), where


def test_irsa_for_pod_level_iam(renders: Renders) -> None:
    """The pods' ServiceAccount carries the IAM role (IRSA): no shared credentials, no API token."""
    for (environment, _color), manifests in renders.items():
        account = named(manifests, "ServiceAccount", "detection-api")
        role = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert re.fullmatch(rf"arn:aws:iam::\d{{12}}:role/detection-api-{environment}-app", role)
        assert account["automountServiceAccountToken"] is False
        for name, pod in pod_specs(manifests):
            account_name = BACKUP if name == BACKUP else "detection-api"
            assert pod["serviceAccountName"] == account_name, name
            assert pod["automountServiceAccountToken"] is False, name
            env = env_of(pod["containers"][0])
            assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(env), name


def test_network_policy_default_deny(renders: Renders) -> None:
    for manifests in renders.values():
        deny = named(manifests, "NetworkPolicy", f"{RELEASE}-default-deny")["spec"]
        assert deny["podSelector"] == {}
        assert sorted(deny["policyTypes"]) == ["Egress", "Ingress"]
        assert "ingress" not in deny
        assert "egress" not in deny


def egress_ports(policy: Manifest) -> list[tuple[str, int | str]]:
    return [(p["protocol"], p["port"]) for rule in policy["spec"]["egress"] for p in rule["ports"]]


def egress_cidrs(policy: Manifest) -> list[str]:
    return [peer["ipBlock"]["cidr"] for rule in policy["spec"]["egress"] for peer in rule["to"]]


@pytest.fixture(scope="module")
def production(renders: Renders) -> list[Manifest]:
    return renders[("production", "blue")]


def test_network_policy_allows_dns(production: list[Manifest]) -> None:
    policy = named(production, "NetworkPolicy", f"{RELEASE}-allow-dns")
    assert egress_ports(policy) == [("UDP", 53), ("TCP", 53)]
    (peer,) = policy["spec"]["egress"][0]["to"]
    assert peer["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "kube-system"
    }
    assert peer["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


@pytest.mark.parametrize(
    ("allow", "port", "cidrs"),
    [
        # The database and endpoints tiers of infra/envs/production (test_chart_network.py).
        ("postgres", 5432, ["10.30.64.0/24", "10.30.65.0/24", "10.30.66.0/24"]),
        ("redis", 6379, ["10.30.64.0/24", "10.30.65.0/24", "10.30.66.0/24"]),
        ("aws-endpoints", 443, ["10.30.80.0/24", "10.30.81.0/24", "10.30.82.0/24"]),
        ("tak-tak-primary", 8089, ["10.30.40.10/32"]),
        ("tak-tak-secondary", 8089, ["10.30.41.10/32"]),
    ],
)
def test_network_policy_allows_egress_to(
    production: list[Manifest], allow: str, port: int, cidrs: list[str]
) -> None:
    """PostgreSQL, Redis, AWS endpoints and each TAK destination: only their CIDRs and port."""
    policy = named(production, "NetworkPolicy", f"{RELEASE}-allow-{allow}")
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert egress_ports(policy) == [("TCP", port)]
    assert egress_cidrs(policy) == cidrs


@pytest.mark.parametrize(
    ("allow", "namespace", "port"),
    [("ingress-controller", "ingress-nginx", "http"), ("prometheus", "monitoring", "metrics")],
)
def test_network_policy_allows_ingress_from(
    production: list[Manifest], allow: str, namespace: str, port: str
) -> None:
    """The ingress controller reaches only the http port; Prometheus only the metrics port."""
    policy = named(production, "NetworkPolicy", f"{RELEASE}-allow-{allow}")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    assert peer == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
    }
    assert rule["ports"] == [{"protocol": "TCP", "port": port}]
    assert policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"


def test_network_policies_are_exactly_deny_plus_the_explicit_allows(
    production: list[Manifest],
) -> None:
    names = {
        p["metadata"]["name"].removeprefix(f"{RELEASE}-")
        for p in of_kind(production, "NetworkPolicy")
    }
    assert names == {
        "default-deny",
        "allow-dns",
        "allow-ingress-controller",
        "allow-prometheus",
        "allow-postgres",
        "allow-redis",
        "allow-aws-endpoints",
        "allow-tak-tak-primary",
        "allow-tak-tak-secondary",
        "backup",
    }


def test_rbac_with_least_privilege_roles(renders: Renders, helm: Helm) -> None:
    """No cluster-wide grants, no wildcards; the optional Role reads one ConfigMap by name."""
    for manifests in renders.values():
        assert not of_kind(manifests, "Role") + of_kind(manifests, "RoleBinding")
    with_role = helm.template("production", {"rbac": {"create": True}})
    assert not {"ClusterRole", "ClusterRoleBinding"} & {m["kind"] for m in with_role}
    (role,) = of_kind(with_role, "Role")
    for rule in role["rules"]:
        for key in ("apiGroups", "resources", "verbs", "resourceNames"):
            assert "*" not in rule[key], (key, rule)
        assert set(rule["verbs"]) <= {"get"}
        assert rule["resourceNames"] == [f"{RELEASE}-release"]
    (binding,) = of_kind(with_role, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "detection-api", "namespace": "detection-api"}
    ]


SECRET_LOOKING = re.compile(
    r"(postgres(ql)?://[^@\s/]+:[^@\s]+@|-----BEGIN [A-Z ]*PRIVATE KEY|AKIA[0-9A-Z]{16}"
    r"|\b(password|secret|token|pepper)[ \t]*[:=][ \t]*['\"]?[A-Za-z0-9+/]{8,})",
    re.IGNORECASE,
)


def test_secrets_via_kubernetes_secrets_referenced_by_name(renders: Renders, helm: Helm) -> None:
    """No Secret object and no secret value in the chart: only references by name."""
    for manifests in renders.values():
        assert not of_kind(manifests, "Secret")
        for name, pod in pod_specs(manifests):
            for value in env_of(pod["containers"][0]).values():
                if isinstance(value, dict):
                    assert set(value) == {"secretKeyRef"}, name
                else:
                    assert not SECRET_LOOKING.search(str(value)), (name, value)
    sources = [p for p in CHART.rglob("*") if p.is_file()]
    assert len(sources) > 10
    for path in sources:
        assert not SECRET_LOOKING.search(path.read_text()), path
    external = of_kind(helm.template("production", {}), "ExternalSecret")
    assert [e["spec"]["target"]["name"] for e in external] == ["detection-api"]


def test_secret_scan_finds_a_planted_secret() -> None:
    assert SECRET_LOOKING.search("postgresql://app:hunter22@db:5432/app")
    assert SECRET_LOOKING.search("-----BEGIN RSA PRIVATE KEY-----")
    assert SECRET_LOOKING.search("password: s3cr3tPassw0rd")
    assert not SECRET_LOOKING.search("postgresql://detection_api@db.internal:5432/detection_api")
    assert not SECRET_LOOKING.search("clientCertSecret: detection-api-tak-client")


POD_USER = 10001  # the image's fixed non-root UID/GID (app/Dockerfile)

# ---------------------------------------------------------------------------------------------
# Deployment
# ---------------------------------------------------------------------------------------------


def test_pod_disruption_budget_min_available_2(renders: Renders) -> None:
    """A budget per colour, selecting exactly that colour's pods."""
    for manifests in renders.values():
        for deployment in of_kind(manifests, "Deployment"):
            name = deployment["metadata"]["name"]
            budget = named(manifests, "PodDisruptionBudget", name)["spec"]
            assert budget["minAvailable"] == 2, name
            assert budget["selector"] == deployment["spec"]["selector"], name


def test_graceful_shutdown_prestop_hook_and_termination_grace(renders: Renders) -> None:
    """preStop keeps serving while endpoints drop the pod; the grace covers it plus the drain."""
    for where, deployment in api_deployments(renders):
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        drain = float(env_of(container)["DETECTION_API_SHUTDOWN_DRAIN_SECONDS"])
        assert pause >= 5, where
        assert drain > 0, where
        assert pod["terminationGracePeriodSeconds"] > pause + drain, where


def test_service_pods_need_no_shell_in_the_distroless_image(renders: Renders) -> None:
    """The image has no shell or coreutils (ADR 0010): the chart starts the image's own entrypoint
    with a CLI subcommand, probes over HTTP and pauses preStop with the kubelet's own sleep."""
    pods = list(app_pods(renders))
    assert len(pods) >= 18
    for where, pod in pods:
        for container in pod["containers"] + pod.get("initContainers", []):
            assert "command" not in container, where
            assert container["args"][0] in {"serve", "migrate"}, where
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                if probe in container:
                    assert set(container[probe]) & {"httpGet", "tcpSocket", "grpc"}, where
                    assert "exec" not in container[probe], (where, probe)
            for hook in container.get("lifecycle", {}).values():
                assert set(hook) <= {"sleep", "httpGet"}, where


def test_pod_anti_affinity_spread_across_nodes_and_zones(renders: Renders) -> None:
    for where, deployment in api_deployments(renders):
        pod = deployment["spec"]["template"]["spec"]
        own = deployment["spec"]["selector"]["matchLabels"]
        anti = pod["affinity"]["podAntiAffinity"]
        terms = [
            t["podAffinityTerm"]
            for t in anti.get("preferredDuringSchedulingIgnoredDuringExecution", [])
        ]
        terms += anti.get("requiredDuringSchedulingIgnoredDuringExecution", [])
        assert [(t["topologyKey"], t["labelSelector"]["matchLabels"]) for t in terms] == [
            ("kubernetes.io/hostname", own)
        ], where
        spread = {c["topologyKey"]: c for c in pod["topologySpreadConstraints"]}
        assert set(spread) == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}, where
        assert all(c["labelSelector"]["matchLabels"] == own for c in spread.values()), where
        assert all(c["maxSkew"] == 1 for c in spread.values()), where
    production = renders[("production", "blue")]
    for deployment in of_kind(production, "Deployment"):
        zone = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0]
        assert zone["whenUnsatisfiable"] == "DoNotSchedule"


QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$")
SCALE = {None: 1.0, "m": 0.001, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(value: str | int) -> float:
    match = QUANTITY.fullmatch(str(value))
    assert match, value
    return float(match[1]) * SCALE[match[2]]


def test_resource_requests_and_limits_defined(renders: Renders) -> None:
    for where, pod in every_pod(renders):
        for container in pod["containers"]:
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                request = quantity(resources["requests"][resource])
                limit = quantity(resources["limits"][resource])
                assert 0 < request <= limit, (where, resource)


def test_prometheus_operator_service_monitor_scrapes_metrics_port_only(renders: Renders) -> None:
    for environment in ("staging", "production"):
        manifests = renders[(environment, "blue")]
        (monitor,) = of_kind(manifests, "ServiceMonitor")
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
        selected = monitor["spec"]["selector"]["matchLabels"]
        for service in of_kind(manifests, "Service"):
            assert selected.items() <= service["metadata"]["labels"].items()
            ports = {p["name"]: p["targetPort"] for p in service["spec"]["ports"]}
            assert ports["metrics"] == "metrics"
