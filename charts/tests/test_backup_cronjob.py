"""The hourly backup CronJob (issue #8: RPO < 1 h): schedule, concurrency, identity, network,
the command it runs, and the values that must refuse to render.

Staging and production enable it in their values files; dev and the defaults are rendered with
BACKUP_ON. Pod security, resources, digests and the scanners cover its pod through
detection_ops.deploy.manifests.pod_specs, which includes CronJob pod templates (checked below).
"""

from __future__ import annotations

from typing import Any

import pytest

from charts.tests.conftest import (
    BACKUP,
    BACKUP_ON,
    ENVIRONMENTS,
    RELEASE,
    Helm,
    Renders,
    env_of,
    every_pod,
    named,
)
from detection_ops.backup.__main__ import parse
from detection_ops.backup.config import BackupConfig
from detection_ops.deploy.manifests import Manifest, of_kind, pod_specs

MINUTES_PER_DAY = 24 * 60
HOUR_S = 3600


def backup_renders(helm: Helm) -> dict[str, list[Manifest]]:
    """Every environment with the backup on: its own values (staging, production) or BACKUP_ON."""
    return {
        environment: helm.template(environment, {} if environment != "dev" else BACKUP_ON)
        for environment in ENVIRONMENTS
    }


@pytest.fixture(scope="module")
def enabled(helm: Helm) -> dict[str, list[Manifest]]:
    return backup_renders(helm)


def cronjob(manifests: list[Manifest]) -> Manifest:
    return named(manifests, "CronJob", BACKUP)


def backup_pod(manifests: list[Manifest]) -> dict[str, Any]:
    pod: dict[str, Any] = cronjob(manifests)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


# ---------------------------------------------------------------------------------------------
# Schedule: RPO < 1 h


def field_values(field: str, low: int, high: int) -> list[int]:
    """Expand one cron field (`*`, `*/n`, `a-b`, `a-b/n`, lists) into its values."""
    values: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        start, end = (low, high) if base == "*" else map(int, (base.split("-") * 2)[:2])
        if step and "-" not in base and base != "*":
            end = high
        values.update(range(start, end + 1, int(step or 1)))
    return sorted(values)


def max_gap_minutes(schedule: str) -> int:
    """Longest wait between two runs of a daily-repeating schedule (day fields must be `*`)."""
    minute, hour, *days = schedule.split()
    assert days == ["*", "*", "*"], f"{schedule}: day, month and weekday must be *"
    runs = [h * 60 + m for h in field_values(hour, 0, 23) for m in field_values(minute, 0, 59)]
    return max(
        (runs[(i + 1) % len(runs)] - run) % MINUTES_PER_DAY or MINUTES_PER_DAY
        for i, run in enumerate(runs)
    )


@pytest.mark.parametrize(
    ("schedule", "gap"),
    [("17 * * * *", 60), ("*/20 * * * *", 20), ("5,50 * * * *", 45), ("17 */2 * * *", 120)],
)
def test_max_gap_of_a_schedule(schedule: str, gap: int) -> None:
    """The RPO check itself can fail: an every-two-hours schedule has a 120-minute gap."""
    assert max_gap_minutes(schedule) == gap


def test_backup_runs_at_least_hourly_in_every_environment(
    enabled: dict[str, list[Manifest]],
) -> None:
    for environment, manifests in enabled.items():
        spec = cronjob(manifests)["spec"]
        assert max_gap_minutes(spec["schedule"]) <= 60, environment
        assert spec["timeZone"] == "Etc/UTC", environment
        assert spec.get("suspend") in {None, False}, environment


def test_a_backup_never_overlaps_or_blocks_the_next(enabled: dict[str, list[Manifest]]) -> None:
    """Forbid: no second pg_dump while one runs; a stuck run is killed before the next is due."""
    for environment, manifests in enabled.items():
        spec = cronjob(manifests)["spec"]
        job = spec["jobTemplate"]["spec"]
        assert spec["concurrencyPolicy"] == "Forbid", environment
        assert 0 < spec["startingDeadlineSeconds"] < HOUR_S, environment
        assert 0 < job["activeDeadlineSeconds"] < HOUR_S, environment
        assert job["backoffLimit"] >= 1, environment
        assert spec["failedJobsHistoryLimit"] >= 1, environment
        assert spec["successfulJobsHistoryLimit"] >= 1, environment
        assert job["template"]["spec"]["restartPolicy"] == "Never", environment


# ---------------------------------------------------------------------------------------------
# What it runs


def test_the_cronjob_runs_the_backup_entry_point_for_its_environment(
    enabled: dict[str, list[Manifest]],
) -> None:
    """The rendered args parse with the real command line of `python -m detection_ops.backup`."""
    for environment, manifests in enabled.items():
        (container,) = backup_pod(manifests)["containers"]
        args = parse(container["args"])
        assert (args.command, args.env, args.no_verify) == ("backup", environment, False)


def test_the_backup_reads_every_variable_the_chart_sets(enabled: dict[str, list[Manifest]]) -> None:
    """The variables configure the real BackupConfig: bucket, key, region, database, IAM auth."""
    for environment, manifests in enabled.items():
        env = env_of(backup_pod(manifests)["containers"][0])
        database = env["DETECTION_API_DATABASE_URL"]
        if isinstance(database, dict):  # password auth: the URL comes from the service's Secret
            app = env_of(
                named(manifests, "Deployment", f"{RELEASE}-blue")["spec"]["template"]["spec"][
                    "containers"
                ][0]
            )
            assert database == app["DETECTION_API_DATABASE_URL"], environment
            env["DETECTION_API_DATABASE_URL"] = "postgresql://u:p@db.internal:5432/detection_api"
        config = BackupConfig.from_environ(environment, env)
        assert config.bucket == env["DETECTION_OPS_BACKUP_BUCKET"], environment
        assert config.kms_key_arn.startswith("arn:aws:kms:"), environment
        assert config.region == config.kms_key_arn.split(":")[3], environment
        assert config.database_url is not None, environment
        assert (config.iam_region is not None) == (environment != "dev"), environment
        assert set(env) == {
            "DETECTION_OPS_BACKUP_BUCKET",
            "DETECTION_OPS_BACKUP_KMS_KEY",
            "AWS_REGION",
            "DETECTION_API_DATABASE_URL",
            "DETECTION_API_DATABASE_SSLMODE",
            *(["DETECTION_API_DATABASE_IAM_AUTH"] if environment != "dev" else []),
        }, environment


def test_pod_security_checks_cover_the_backup_pod(renders: Renders) -> None:
    """pod_specs reaches into the CronJob's pod template (staging and production)."""
    checked = {where for where, _ in every_pod(renders) if where.endswith(f"/{BACKUP}")}
    assert checked == {
        f"{env}/{color}/{BACKUP}"
        for env in ("staging", "production")
        for color in ("blue", "green")
    }


# ---------------------------------------------------------------------------------------------
# Identity: its own ServiceAccount and IAM role


def role_of(manifests: list[Manifest], account: str) -> str:
    annotations = named(manifests, "ServiceAccount", account)["metadata"].get("annotations") or {}
    return str(annotations.get("eks.amazonaws.com/role-arn", ""))


def test_backup_service_account_carries_the_backup_role(
    enabled: dict[str, list[Manifest]],
) -> None:
    for environment, manifests in enabled.items():
        pod = backup_pod(manifests)
        assert pod["serviceAccountName"] == BACKUP, environment
        assert pod["automountServiceAccountToken"] is False, environment
        account = named(manifests, "ServiceAccount", BACKUP)
        assert account["automountServiceAccountToken"] is False, environment
        assert role_of(manifests, BACKUP).endswith(f"-{environment}-backup"), environment


def test_the_services_account_gets_no_backup_role(enabled: dict[str, list[Manifest]]) -> None:
    """The app keeps its own role; no app pod runs as the backup account, nor the reverse."""
    for environment, manifests in enabled.items():
        assert role_of(manifests, "detection-api").endswith(f"-{environment}-app"), environment
        assert role_of(manifests, "detection-api") != role_of(manifests, BACKUP), environment
        for name, pod in pod_specs(manifests):
            expected = BACKUP if name == BACKUP else "detection-api"
            assert pod["serviceAccountName"] == expected, (environment, name)


# ---------------------------------------------------------------------------------------------
# Network: DNS, PostgreSQL and HTTPS out; nothing in


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label selector semantics (matchLabels and In/NotIn/Exists expressions)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values")
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
    return True


def policies_of(manifests: list[Manifest], labels: dict[str, str]) -> list[Manifest]:
    return [
        p for p in of_kind(manifests, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)
    ]


def egress_of(policies: list[Manifest]) -> list[tuple[frozenset[str], tuple[Any, ...]]]:
    """Every allowed (destinations, ports) pair of the policies."""
    allowed = []
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            peers = frozenset(
                peer["ipBlock"]["cidr"] if "ipBlock" in peer else "kube-dns" for peer in rule["to"]
            )
            allowed.append((peers, tuple((p["protocol"], p["port"]) for p in rule["ports"])))
    return allowed


def test_backup_pods_reach_only_dns_postgres_and_https(enabled: dict[str, list[Manifest]]) -> None:
    for environment, manifests in enabled.items():
        labels = cronjob(manifests)["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        policies = policies_of(manifests, labels)
        names = {p["metadata"]["name"] for p in policies}
        assert names == {f"{RELEASE}-default-deny", BACKUP}, environment
        assert not any(p["spec"].get("ingress") for p in policies), environment
        assert "Ingress" in named(manifests, "NetworkPolicy", BACKUP)["spec"]["policyTypes"]
        cidrs = named(manifests, "NetworkPolicy", f"{RELEASE}-allow-postgres")["spec"]["egress"]
        aws = named(manifests, "NetworkPolicy", f"{RELEASE}-allow-aws-endpoints")["spec"]["egress"]
        assert egress_of(policies) == [
            (frozenset({"kube-dns"}), (("UDP", 53), ("TCP", 53))),
            (frozenset(p["ipBlock"]["cidr"] for p in cidrs[0]["to"]), (("TCP", 5432),)),
            (frozenset(p["ipBlock"]["cidr"] for p in aws[0]["to"]), (("TCP", 443),)),
        ], environment


def test_service_pods_keep_their_allows_and_not_the_backups(
    enabled: dict[str, list[Manifest]],
) -> None:
    manifests = enabled["production"]
    for component in ("api", "migrations"):
        labels = {"app.kubernetes.io/name": "detection-api", "app.kubernetes.io/instance": RELEASE}
        names = {
            p["metadata"]["name"]
            for p in policies_of(manifests, {**labels, "app.kubernetes.io/component": component})
        }
        assert {f"{RELEASE}-allow-dns", f"{RELEASE}-allow-postgres"} <= names, component
        assert BACKUP not in names, component


# ---------------------------------------------------------------------------------------------
# Toggle and values


def test_switching_backup_off_removes_exactly_the_backup_objects(helm: Helm) -> None:
    on = helm.template("production")
    off = helm.template("production", {"backup": {"enabled": False}})
    identities = {(m["kind"], m["metadata"]["name"]) for m in on}
    remaining = {(m["kind"], m["metadata"]["name"]) for m in off}
    gone = identities - remaining
    assert gone == {("CronJob", BACKUP), ("ServiceAccount", BACKUP), ("NetworkPolicy", BACKUP)}
    assert remaining <= identities
    assert not [
        m for m in off if m["metadata"]["labels"].get("app.kubernetes.io/component") == "backup"
    ]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_helm_lint_strict_passes_with_backup_enabled(helm: Helm, environment: str) -> None:
    output = helm.lint(environment, BACKUP_ON if environment == "dev" else {})
    assert "0 chart(s) failed" in output


def on(**backup: Any) -> dict[str, Any]:
    return {**BACKUP_ON, "backup": {**BACKUP_ON["backup"], **backup}}


@pytest.mark.parametrize(
    ("environment", "values", "message"),
    [
        ("dev", on(schedule="17 */2 * * *"), "schedule"),
        ("dev", on(schedule="@daily"), "schedule"),
        ("dev", on(schedule="0 3 * * *"), "schedule"),
        ("dev", on(bucket=""), "bucket"),
        ("dev", on(kmsKeyArn=""), "kmsKeyArn"),
        ("dev", on(kmsKeyArn="alias/backups"), "kmsKeyArn"),
        ("dev", on(serviceAccount={"roleArn": ""}), "roleArn"),
        (
            "dev",
            on(serviceAccount={"roleArn": "arn:aws:iam::111122223333:role/detection-api-dev-app"}),
            "must not be the service's role",
        ),
        ("dev", on(activeDeadlineSeconds=3600), "activeDeadlineSeconds"),
        (None, {"backup": BACKUP_ON["backup"]}, "networkPolicy.postgresCidrs and"),
        (
            "production",
            {"backup": {"image": {"digest": ""}}},
            "backup.image.digest is required in production",
        ),
    ],
    ids=[
        "every-two-hours",
        "daily-macro",
        "once-a-day",
        "enabled-without-bucket",
        "enabled-without-key",
        "key-alias-not-arn",
        "enabled-without-role",
        "the-apps-role",
        "deadline-past-the-next-run",
        "no-network-allows",
        "production-without-digest",
    ],
)
def test_bad_backup_values_fail_with_a_clear_message(
    helm: Helm, environment: str | None, values: dict[str, Any], message: str
) -> None:
    assert message in helm.template_error(environment, values)
