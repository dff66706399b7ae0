"""Checklist "Security": KMS and IAM in Terraform, pod hardening and secrets in the rendered chart,
scanners in the pipelines."""

from __future__ import annotations

import ast
from typing import Any

from detection_ops.deploy.manifests import of_kind, pod_specs
from detection_ops.readiness.model import check, present, require
from detection_ops.readiness.sources import Sources

SECTION = "Security"
INFRA = "infra/tests/test_checklist_security.py"
CHART = "charts/tests/test_checklist.py"
SCAN = "ops/src/detection_ops/image/scan.py"


def _customer_key(s: Sources, module: str, call: str) -> None:
    require(s.call(module, call).get("source") == "../encryption", f"{module} {call}: not a CMK")
    key = s.resource("encryption", "aws_kms_key", "this")
    require(key.get("enable_key_rotation") is True, "infra/modules/encryption: key rotation off")


@check(SECTION, "KMS encryption for EKS secrets", f"{INFRA}::test_kms_encryption_for_eks_secrets")
def kms_eks_secrets(s: Sources) -> str:
    config = s.call("cluster", "eks").get("encryption_config", {})
    require(config.get("resources") == ["secrets"], "module.eks encryption_config.resources")
    require(
        config.get("provider_key_arn") == "${module.secrets_key.key_arn}",
        "module.eks encryption_config.provider_key_arn is not module.secrets_key",
    )
    _customer_key(s, "cluster", "secrets_key")
    return "module.eks encryption_config: secrets with module.secrets_key (rotated CMK)"


@check(SECTION, "KMS encryption for RDS storage", f"{INFRA}::test_kms_encryption_for_rds_storage")
def kms_rds(s: Sources) -> str:
    for call in ("primary", "replica"):
        database = s.call("database", call)
        require(database.get("storage_encrypted") is True, f"module.{call}: storage_encrypted")
        require(
            database.get("kms_key_id") == "${module.storage_key.key_arn}",
            f"module.{call}: kms_key_id is not module.storage_key",
        )
    _customer_key(s, "database", "storage_key")
    return (
        "infra/modules/database module.primary/replica: storage_encrypted with module.storage_key"
    )


@check(SECTION, "KMS encryption for S3 backups", f"{INFRA}::test_kms_encryption_for_s3_backups")
def kms_s3_backups(s: Sources) -> str:
    bucket = s.call("backups", "bucket")
    require(
        bucket.get("kms_key_arn") == "${module.key.key_arn}", "backups module.bucket kms_key_arn"
    )
    rule = s.call("private-bucket", "bucket")["server_side_encryption_configuration"]["rule"]
    algorithm = rule["apply_server_side_encryption_by_default"]["sse_algorithm"]
    require(algorithm == "aws:kms", f"private-bucket sse_algorithm = {algorithm}")
    _customer_key(s, "backups", "key")
    return "infra/modules/backups module.bucket kms_key_arn; private-bucket SSE aws:kms"


@check(
    SECTION,
    "IRSA for pod-level IAM (no shared credentials)",
    f"{CHART}::test_irsa_for_pod_level_iam",
)
def irsa(s: Sources) -> str:
    require(s.call("cluster", "eks").get("enable_irsa") is True, "module.eks enable_irsa")
    require(s.call("cluster", "app_irsa"), "infra/modules/cluster: no module.app_irsa")
    for path in (s.root / "infra").rglob("*.tf"):
        require('"aws_iam_access_key"' not in path.read_text(), f"{path}: IAM access key")
    manifests = s.render("production")
    roles = {
        account["metadata"]["name"]: account["metadata"]
        .get("annotations", {})
        .get("eks.amazonaws.com/role-arn", "")
        for account in of_kind(manifests, "ServiceAccount")
    }
    for name, role in roles.items():
        require(role.startswith("arn:aws:iam::"), f"ServiceAccount {name}: no IRSA role-arn")
    require(len(set(roles.values())) == len(roles), f"ServiceAccounts share a role: {roles}")
    for where, pod in pod_specs(manifests):
        names = {e["name"] for c in pod["containers"] for e in c.get("env", [])}
        require("AWS_SECRET_ACCESS_KEY" not in names, f"{where}: static AWS key in env")
    return (
        "module.eks enable_irsa + module.app_irsa; "
        f"{len(roles)} ServiceAccounts, each its own eks.amazonaws.com/role-arn"
    )


@check(
    SECTION,
    "Network policies (default deny, explicit allow)",
    f"{CHART}::test_network_policy_default_deny",
)
def network_policies(s: Sources) -> str:
    policies = {
        p["metadata"]["name"]: p["spec"] for p in of_kind(s.render("production"), "NetworkPolicy")
    }
    deny = present(
        policies.get("detection-api-default-deny"), "no NetworkPolicy detection-api-default-deny"
    )
    require(deny.get("podSelector") == {}, "default-deny does not select every pod")
    require(
        sorted(deny.get("policyTypes", [])) == ["Egress", "Ingress"], "default-deny policyTypes"
    )
    require("ingress" not in deny and "egress" not in deny, "default-deny allows traffic")
    allows = sorted(name for name in policies if "-allow-" in name)
    require(allows, "no explicit allow policies")
    return (
        f"templates/networkpolicy.yaml: default-deny + {len(allows)} explicit allows (production)"
    )


def _hardened(where: str, pod: dict[str, Any]) -> None:
    require(pod.get("securityContext", {}).get("runAsNonRoot") is True, f"{where}: runAsNonRoot")
    for container in pod["containers"] + pod.get("initContainers", []):
        context = container.get("securityContext", {})
        require(context.get("runAsNonRoot") is True, f"{where}: container runAsNonRoot")
        require(context.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation")
        require(
            context.get("capabilities") == {"drop": ["ALL"]}, f"{where}: capabilities not dropped"
        )
        require(
            context.get("seccompProfile") == {"type": "RuntimeDefault"}, f"{where}: seccomp profile"
        )


@check(
    SECTION,
    "Pod security context (non-root, dropped capabilities, seccomp)",
    f"{CHART}::test_pod_security_context_non_root_dropped_capabilities_seccomp",
)
def pod_security(s: Sources) -> str:
    pods = pod_specs(s.render("production"))
    require(pods, "rendered chart: no workloads")
    for where, pod in pods:
        _hardened(where, pod)
    return f"rendered production: {len(pods)} pods non-root, drop ALL, RuntimeDefault seccomp"


@check(
    SECTION, "RDS SSL enforced (rds.force_ssl = 1)", f"{INFRA}::test_rds_ssl_enforced_force_ssl_1"
)
def rds_force_ssl(s: Sources) -> str:
    from detection_ops.infra import hcl  # noqa: PLC0415 - local to the one check reading locals

    parameters = {p["name"]: p["value"] for p in hcl.locals_of(s.module("database"))["parameters"]}
    require(
        parameters.get("rds.force_ssl") == "1", f"rds.force_ssl = {parameters.get('rds.force_ssl')}"
    )
    return "infra/modules/database locals.parameters: rds.force_ssl = 1"


@check(SECTION, "RBAC with least-privilege roles", f"{CHART}::test_rbac_with_least_privilege_roles")
def rbac(s: Sources) -> str:
    manifests = s.render("production", {"rbac": {"create": True}})
    kinds = {m["kind"] for m in manifests}
    require(not {"ClusterRole", "ClusterRoleBinding"} & kinds, "chart grants cluster-wide roles")
    roles = of_kind(manifests, "Role")
    require(roles, "rbac.create renders no Role")
    for role in roles:
        for rule in role["rules"]:
            for key in ("apiGroups", "resources", "verbs"):
                require(
                    "*" not in rule.get(key, []), f"Role {role['metadata']['name']}: * in {key}"
                )
            require(set(rule["verbs"]) <= {"get", "list", "watch"}, f"Role writes: {rule['verbs']}")
    for account in of_kind(manifests, "ServiceAccount"):
        require(
            account.get("automountServiceAccountToken") is False,
            f"ServiceAccount {account['metadata']['name']} automounts a token",
        )
    return "templates/rbac.yaml: namespaced read-only Role, no wildcards; no token automount"


@check(
    SECTION,
    "tfsec + checkov in CI pipeline",
    "infra/tests/test_scanners.py::test_tfsec_checkov_in_ci_pipeline_trivy_zero_failed",
    scope="tfsec's successor, `trivy config`, runs in its place",
)
def iac_scanners(s: Sources) -> str:
    scanners = s.text("infra/tests/test_scanners.py")
    require("checkov" in scanners and "trivy" in scanners, "infra/tests/test_scanners.py: scanners")
    require(
        any(run.endswith("inv test --args infra/tests") for run in s.runs("infra.yml")),
        "infra.yml: no step runs the whole infra/tests suite (the scanners)",
    )
    return (
        "infra.yml runs `inv test --args infra/tests` -> checkov + trivy config (tfsec successor)"
    )


@check(
    SECTION,
    "Trivy container image scanning",
    "ops/tests/test_image_units.py::test_scan_plan_offline_then_cves_with_the_reviewed_ignore_file",
    scope="the CVE database needs the network: the CVE scan runs in GitHub Actions",
)
def trivy_image(s: Sources) -> str:
    require("uv run --locked inv scan" in s.runs("app.yml"), "app.yml: no `inv scan`")
    tree = s.python(SCAN)
    severities = {
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and any(getattr(target, "id", "") == "BLOCKING_SEVERITIES" for target in node.targets)
    }
    require(severities == {"CRITICAL,HIGH"}, f"{SCAN} BLOCKING_SEVERITIES = {severities}")
    command = ast.unparse(tree)
    require("'image'" in command and "'--exit-code', '1'" in command, f"{SCAN}: no failing scan")
    return f"app.yml `inv scan` -> {SCAN}: trivy image --exit-code 1, CVEs at CRITICAL,HIGH"


@check(
    SECTION,
    "Secrets via Kubernetes Secrets (path to External Secrets Operator)",
    f"{CHART}::test_secrets_via_kubernetes_secrets_referenced_by_name",
)
def secrets(s: Sources) -> str:
    manifests = s.render("production")
    require(not of_kind(manifests, "Secret"), "the chart renders a Secret (values in the chart)")
    for where, pod in pod_specs(manifests):
        for variable in pod["containers"][0].get("env", []):
            source = variable.get("valueFrom")
            if source is not None and "secretKeyRef" in source:
                require(source["secretKeyRef"].get("name"), f"{where}: secretKeyRef without name")
    external = of_kind(manifests, "ExternalSecret")
    require(external, "production: externalSecrets.enabled renders no ExternalSecret")
    s.path("docs/adr/0008-secrets-and-external-secrets.md")
    return (
        "rendered production: no Secret, secretKeyRef by name, ExternalSecret "
        "(values externalSecrets.enabled); docs/adr/0008"
    )
