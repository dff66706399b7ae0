"""Every readiness check fails when the evidence it names is broken: each runs against a copy of
the repository (links to the real files, one file edited or removed) and must report FAIL."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from detection_ops.readiness.__main__ import main
from detection_ops.readiness.model import REGISTRY, Check
from detection_ops.readiness.report import run_check
from detection_ops.readiness.sources import Sources

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKS = {check.item: check for check in REGISTRY}
DELETE = None  # a mutation that removes the file instead of editing it


def overlay(destination: Path, relative: str) -> Path:
    """A repository at `destination` whose entries link to the real one, except along the path
    to `relative`: those folders are real and the file itself is a copy that may be edited."""
    source, target = REPO_ROOT, destination
    for part in Path(relative).parts:
        target.mkdir(parents=True, exist_ok=True)
        for entry in source.iterdir():
            if entry.name != part:
                (target / entry.name).symlink_to(entry)
        source, target = source / part, target / part
    if source.is_file():
        shutil.copyfile(source, target)
    return destination


def mutate(destination: Path, relative: str, old: str, new: str | None) -> Sources:
    if "*" in relative:  # a file found by pattern, e.g. the ADR on a topic
        matches = sorted(REPO_ROOT.glob(relative))
        assert matches, f"the mutation no longer applies: nothing matches {relative}"
        relative = str(matches[0].relative_to(REPO_ROOT))
    root = overlay(destination, relative)
    path = root / relative
    if new is DELETE:
        path.unlink()
        return Sources(root)
    text = path.read_text()
    assert old in text, f"the mutation no longer applies: {old!r} not in {relative}"
    path.write_text(text.replace(old, new))
    return Sources(root)


@pytest.fixture(scope="module")
def repository(require_tool: Callable[[str], str]) -> Sources:
    require_tool("helm")
    return Sources(REPO_ROOT)


def test_readiness_exits_1_when_an_item_fails(tmp_path: Path, repository: Sources) -> None:
    sources = mutate(tmp_path, "docs/cost.md", "## staging", "## stage")
    console = Console(width=200, record=True)
    assert main(["--root", str(sources.root)], console=console) == 1
    assert "docs/cost.md: no '## staging' section" in console.export_text()


# -- each check can fail -----------------------------------------------------------------------

NETWORK = "infra/modules/network/main.tf"
CLUSTER = "infra/modules/cluster/main.tf"
DATABASE = "infra/modules/database/main.tf"
PRODUCTION = "infra/envs/production/settings.tf"
TEMPLATES = "charts/detection-api/templates"
RULES = "charts/detection-api/files/prometheus-rules.yaml"
APP = ".github/workflows/app.yml"
INFRA = ".github/workflows/infra.yml"
REPORT = "ops/src/detection_ops/backup/report.py"
FLOW = "ops/src/detection_ops/deploy/flow.py"

MUTATIONS: dict[str, tuple[str, str, str | None]] = {
    # Infrastructure
    "VPC with public/private/database subnet tiers": (
        NETWORK,
        "  database_subnets = var.subnets.database\n",
        "\n",
    ),
    "NAT gateways per AZ for HA (production)": (
        NETWORK,
        "one_nat_gateway_per_az = !var.single_nat_gateway",
        "one_nat_gateway_per_az = false",
    ),
    "VPC flow logs enabled": (
        NETWORK,
        "enable_flow_log                                 = true",
        "enable_flow_log                                 = false",
    ),
    "EKS cluster with private endpoint (production)": (
        PRODUCTION,
        "endpoint_public_access = false",
        "endpoint_public_access = true",
    ),
    "Separate node groups: application and monitoring": (
        CLUSTER,
        "    monitoring = {",
        "    observability = {",
    ),
    "Auto-scaling configured (3-10 application nodes)": (
        PRODUCTION,
        "min_size = 3, max_size = 10",
        "min_size = 3, max_size = 6",
    ),
    "EBS CSI driver for persistent volumes": (
        CLUSTER,
        "aws-ebs-csi-driver = {",
        "aws-efs-csi-driver = {",
    ),
    "gp3 storage class for performance": (
        "infra/modules/cluster/kubernetes.tf",
        'type      = "gp3"',
        'type      = "gp2"',
    ),
    # Security
    "KMS encryption for EKS secrets": (
        CLUSTER,
        'resources        = ["secrets"]',
        "resources        = []",
    ),
    "KMS encryption for RDS storage": (
        DATABASE,
        "storage_encrypted     = true",
        "storage_encrypted     = false",
    ),
    "KMS encryption for S3 backups": (
        "infra/modules/private-bucket/main.tf",
        '"aws:kms"',
        '"AES256"',
    ),
    "IRSA for pod-level IAM (no shared credentials)": (
        CLUSTER,
        "enable_irsa = true",
        "enable_irsa = false",
    ),
    "Network policies (default deny, explicit allow)": (
        f"{TEMPLATES}/networkpolicy.yaml",
        "  podSelector: {}",
        "  podSelector: {matchLabels: {x: y}}",
    ),
    "Pod security context (non-root, dropped capabilities, seccomp)": (
        f"{TEMPLATES}/_helpers.tpl",
        "allowPrivilegeEscalation: false",
        "allowPrivilegeEscalation: true",
    ),
    "RDS SSL enforced (rds.force_ssl = 1)": (
        DATABASE,
        'name = "rds.force_ssl", value = "1"',
        'name = "rds.force_ssl", value = "0"',
    ),
    "RBAC with least-privilege roles": (
        f"{TEMPLATES}/rbac.yaml",
        'verbs: ["get"]',
        'verbs: ["get", "update"]',
    ),
    "tfsec + checkov in CI pipeline": (
        INFRA,
        "inv test --args infra/tests",
        "inv test --args infra/tests/test_cost_and_docs.py",
    ),
    "Trivy container image scanning": (
        "ops/src/detection_ops/image/scan.py",
        'BLOCKING_SEVERITIES = "CRITICAL,HIGH"',
        'BLOCKING_SEVERITIES = "CRITICAL"',
    ),
    "Secrets via Kubernetes Secrets (path to External Secrets Operator)": (
        "charts/detection-api/values-production.yaml",
        "externalSecrets:\n  enabled: true",
        "externalSecrets:\n  enabled: false",
    ),
    # Deployment
    "Blue/Green deployment strategy": (
        f"{TEMPLATES}/service.yaml",
        '"color" .Values.activeColor',
        '"color" "green"',
    ),
    "Rollback validated before every deployment": (
        FLOW,
        "self.validate_rollback(",
        "self.describe_rollback(",
    ),
    "Helm charts with templated manifests": (
        "charts/detection-api/Chart.yaml",
        "apiVersion: v2",
        "apiVersion: v1",
    ),
    "Health checks: liveness, readiness, startup probes": (
        f"{TEMPLATES}/deployment.yaml",
        "          startupProbe:",
        "          startupProbeOff:",
    ),
    "PodDisruptionBudget (minAvailable: 2)": (
        f"{TEMPLATES}/poddisruptionbudget.yaml",
        "minAvailable: {{ $.Values.podDisruptionBudget.minAvailable }}",
        "minAvailable: 1",
    ),
    "Graceful shutdown (preStop hook, terminationGracePeriod)": (
        f"{TEMPLATES}/deployment.yaml",
        "seconds: {{ $.Values.preStopSleepSeconds }}",
        "seconds: 60",
    ),
    "Pod anti-affinity (spread across nodes)": (
        f"{TEMPLATES}/deployment.yaml",
        "        podAntiAffinity:",
        "        podAffinity:",
    ),
    "Resource requests and limits defined": (
        f"{TEMPLATES}/deployment.yaml",
        "{{- toYaml $.Values.resources | nindent 12 }}",
        "requests: {cpu: 100m}",
    ),
    "Deployment script with auto-rollback option": (
        FLOW,
        "auto_rollback: bool = True",
        "auto_rollback: bool = False",
    ),
    # Observability
    "Prometheus Operator with ServiceMonitor": (
        f"{TEMPLATES}/servicemonitor.yaml",
        "    - port: metrics",
        "    - port: http",
    ),
    "Grafana dashboard: SLO, RED metrics, business metrics": (
        "charts/detection-api/values.yaml",
        "label: grafana_dashboard",
        "label: dashboards",
    ),
    "Loki for log aggregation with structured JSON parsing": (
        "charts/monitoring/alloy-values.yaml",
        "stage.json {",
        "stage.logfmt {",
    ),
    "Alertmanager with severity-based routing": (
        "charts/monitoring/alertmanager-values.yaml",
        'severity=~"ticket|warning"',
        'team="x"',
    ),
    "SLO-based alerting (error budget burn rate)": (RULES, "Burn", "Budget"),
    "Business logic alerts (queue size, TAK health, accuracy)": (
        RULES,
        "detection_api_outbox_depth",
        "detection_api_outbox_size",
    ),
    "Infrastructure alerts (CPU, memory, disk, pod health)": (
        RULES,
        "kubelet_volume_stats",
        "node_filesystem",
    ),
    "CloudWatch for EKS control plane and VPC flow logs": (
        CLUSTER,
        '"controllerManager", "scheduler"]',
        '"controllerManager"]',
    ),
    # Database
    "RDS PostgreSQL 16 with Multi-AZ": (
        PRODUCTION,
        "multi_az                  = true",
        "multi_az                  = false",
    ),
    "Read replica for query offloading": (
        PRODUCTION,
        "read_replicas             = 1",
        "read_replicas             = 0",
    ),
    "Automated backups (30-day retention)": (
        DATABASE,
        "backup_retention_period          = 30",
        "backup_retention_period          = 7",
    ),
    "Performance Insights enabled": (
        DATABASE,
        "performance_insights_enabled          = true",
        "performance_insights_enabled          = false",
    ),
    "Enhanced Monitoring enabled": (
        DATABASE,
        "monitoring_interval    = 60",
        "monitoring_interval    = 0",
    ),
    "Custom parameter group (tuned for workload)": (
        DATABASE,
        "create_db_parameter_group = true",
        "create_db_parameter_group = false",
    ),
    "Connection pooling ready (max_connections: 200)": (
        PRODUCTION,
        "max_connections          = 200",
        "max_connections          = 100",
    ),
    "CloudWatch alarms (CPU, storage, replica lag)": (
        "infra/modules/database/alarms.tf",
        '"ReplicaLag"',
        '"DiskQueueDepth"',
    ),
    "IAM database authentication enabled": (
        DATABASE,
        "iam_database_authentication_enabled = true",
        "iam_database_authentication_enabled = false",
    ),
    # Disaster Recovery
    "Database backup script (PostgreSQL + SQLite queue)": (
        "ops/src/detection_ops/backup/take.py",
        "def backup_sqlite",
        "def copy_sqlite",
    ),
    "S3 backup storage with encryption and lifecycle policies": (
        "infra/modules/backups/main.tf",
        "lifecycle_rules = local.lifecycle_rules",
        "lifecycle_rules = []",
    ),
    "Disaster recovery script with RTO tracking": (
        REPORT,
        "def rto_seconds",
        "def restore_seconds",
    ),
    "RTO target: < 30 minutes": (
        REPORT,
        "RTO_TARGET_SECONDS = 30 * 60",
        "RTO_TARGET_SECONDS = 45 * 60",
    ),
    "RPO target: < 1 hour": (
        REPORT,
        "RPO_TARGET_SECONDS = 60 * 60",
        "RPO_TARGET_SECONDS = 4 * 60 * 60",
    ),
    "Cross-region replication ready (S3 module supports it)": (
        PRODUCTION,
        "cross_region_replication = true",
        "cross_region_replication = false",
    ),
    # CI/CD
    "Application pipeline: lint, test, build, scan, deploy, validate": (
        APP,
        "run: uv run --locked inv scan",
        "run: uv run --locked inv lint",
    ),
    "Infrastructure pipeline: validate, security scan, plan, apply": (
        INFRA,
        'inv apply --env "$ENVIRONMENT"',
        'inv plan --env "$ENVIRONMENT"',
    ),
    "OIDC-based AWS authentication (no long-lived credentials)": (
        APP,
        "role-to-assume: ${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        "aws-access-key-id: ${{ vars.AWS_KEY_ID }}",
    ),
    "Environment-specific deployment gates": (
        APP,
        "    environment: staging\n",
        "    environment: dev\n",
    ),
    "Production requires manual approval": (INFRA, "    environment: production\n", "\n"),
    "Terraform state in S3 with DynamoDB locking": (
        "infra/envs/dev/backend.tf",
        "encrypt        = true",
        "encrypt        = false",
    ),
    # Documentation
    "Infrastructure architecture document": ("docs/architecture.md", "```mermaid", "```text"),
    "ADR: Cloud provider selection (AWS EKS)": (
        "docs/adr/0001-cloud-provider-aws-eks.md",
        "- Status: accepted",
        "- Status: proposed",
    ),
    "ADR: Deployment strategy (Blue/Green)": (
        "docs/adr/0003-deployment-strategy-blue-green.md",
        "## Consequences",
        "## Outcome",
    ),
    "ADR: Observability stack (Prometheus/Grafana/Loki)": (
        "docs/adr/*observability*.md",
        "",
        DELETE,
    ),
    "Cost estimates per environment": ("docs/cost.md", "## staging", "## stage"),
    "Runbook references in alert annotations": (
        "docs/runbooks/DetectionApiPvcUsageHigh.md",
        "",
        DELETE,
    ),
}


def test_every_check_has_a_mutation() -> None:
    assert set(MUTATIONS) == set(CHECKS)


@pytest.mark.parametrize("item", list(MUTATIONS))
def test_check_fails_on_a_mutated_repository(
    item: str, repository: Sources, tmp_path: Path
) -> None:
    check: Check = CHECKS[item]
    assert run_check(check, repository).passed, run_check(check, repository).evidence
    relative, old, new = MUTATIONS[item]
    outcome = run_check(check, mutate(tmp_path, relative, old, new))
    assert not outcome.passed, outcome.evidence
    assert outcome.evidence


def test_a_vanished_proof_test_fails_its_item(repository: Sources, tmp_path: Path) -> None:
    check = CHECKS["PodDisruptionBudget (minAvailable: 2)"]
    old = "def test_pod_disruption_budget_min_available_2("
    sources = mutate(tmp_path, "charts/tests/test_checklist.py", old, "def test_pdb(")
    outcome = run_check(check, sources)
    assert (outcome.passed, outcome.evidence) == (False, f"proof test missing: {check.proof}")
