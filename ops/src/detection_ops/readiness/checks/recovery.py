"""Checklist "Disaster Recovery": the backup/DR toolkit and the backup bucket in Terraform."""

from __future__ import annotations

import ast

from detection_ops.deploy.manifests import of_kind
from detection_ops.infra import hcl
from detection_ops.readiness.model import check, require
from detection_ops.readiness.sources import Sources, constant

SECTION = "Disaster Recovery"
BACKUP = "ops/src/detection_ops/backup"
REPORT = f"{BACKUP}/report.py"
STORAGE = "infra/tests/test_checklist_storage_and_pipelines.py"
BACKUP_JOB = "detection-api-backup"  # the chart's backup CronJob for the release detection-api


def _task_names(s: Sources) -> set[str]:
    """Names `inv --list` shows: functions decorated with @task (with `name=` when given)."""
    names: set[str] = set()
    for node in s.python("tasks.py").body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            target = call.func if call else decorator
            if isinstance(target, ast.Name) and target.id == "task":
                renamed = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
                names.add(
                    str(renamed[0].value)
                    if renamed and isinstance(renamed[0], ast.Constant)
                    else node.name
                )
    return names


def _subcommands(s: Sources) -> set[str]:
    tree = s.python(f"{BACKUP}/__main__.py")
    return {
        str(node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", "") == "add_parser"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


@check(
    SECTION,
    "Database backup script (PostgreSQL + SQLite queue)",
    "ops/tests/test_backup.py::test_round_trip_keeps_row_counts_and_checksums",
)
def backup_script(s: Sources) -> str:
    take = s.python(f"{BACKUP}/take.py")
    functions = {n.name for n in ast.walk(take) if isinstance(n, ast.FunctionDef)}
    require(
        {"backup_postgres", "backup_sqlite"} <= functions,
        f"{BACKUP}/take.py: backup_postgres + backup_sqlite",
    )
    require("backup" in _subcommands(s), f"{BACKUP}/__main__.py: no `backup` command")
    require("backup" in _task_names(s), "tasks.py: no `inv backup`")
    return (
        f"`inv backup` -> {BACKUP}/take.py backup_postgres (pg_dump) + backup_sqlite (WAL snapshot)"
    )


@check(
    SECTION,
    "S3 backup storage with encryption and lifecycle policies",
    f"{STORAGE}::test_s3_backup_storage_with_encryption_and_lifecycle_policies",
)
def backup_bucket(s: Sources) -> str:
    bucket = s.call("backups", "bucket")
    require(bucket.get("kms_key_arn") == "${module.key.key_arn}", "backups module.bucket: no CMK")
    require(bucket.get("lifecycle_rules"), "backups module.bucket: no lifecycle_rules")
    prefixes = hcl.blocks(s.module("backups"), "variable")["prefixes"]["default"]
    require({"postgres/", "sqlite/"} <= set(prefixes), f"backup prefixes {sorted(prefixes)}")
    for prefix, rule in prefixes.items():
        require(rule.get("expire_after_days"), f"backup prefix {prefix}: never expires")
    return "infra/modules/backups module.bucket: KMS CMK, lifecycle per prefix (postgres/, sqlite/)"


@check(
    SECTION,
    "Disaster recovery script with RTO tracking",
    "ops/tests/test_dr.py::test_drill_backs_up_destroys_restores_and_reports",
)
def dr_script(s: Sources) -> str:
    require({"restore", "dr-drill"} <= _subcommands(s), f"{BACKUP}/__main__.py: restore + dr-drill")
    require({"restore", "dr-drill"} <= _task_names(s), "tasks.py: `inv restore` + `inv dr-drill`")
    report = ast.unparse(s.python(REPORT))
    require("def rto_seconds" in report, f"{REPORT}: the DR report does not measure RTO")
    return f"`inv restore` / `inv dr-drill` -> {REPORT} DrReport.rto_seconds per phase"


def _target(s: Sources, name: str, limit: float, measured: str) -> str:
    target = constant(s.python(REPORT), name)
    require(0 < target <= limit, f"{REPORT} {name} = {target:.0f} s (must be <= {limit:.0f} s)")
    report = ast.unparse(s.python(REPORT))
    require(
        f"self.{measured} >= self.{name.lower()}" in report,
        f"{REPORT}: a miss of {name} does not fail the report",
    )
    return f"{REPORT} {name} = {target / 60:.0f} min; a miss fails the DR report"


@check(
    SECTION,
    "RTO target: < 30 minutes",
    "ops/tests/test_dr.py::test_a_missed_target_fails_the_report",
)
def rto_target(s: Sources) -> str:
    return _target(s, "RTO_TARGET_SECONDS", 30 * 60, "rto_seconds")


def _hourly_backups(s: Sources) -> str:
    """The chart's backup CronJob runs `backup` at least hourly, one at a time, where it matters."""
    for environment in ("staging", "production"):
        cronjobs = of_kind(s.render(environment), "CronJob")
        jobs = [job for job in cronjobs if job["metadata"]["name"] == BACKUP_JOB]
        require(jobs, f"{environment}: no CronJob {BACKUP_JOB} (values backup.enabled)")
        spec = jobs[0]["spec"]
        schedule = str(spec.get("schedule", ""))
        require(
            schedule.split()[1:] == ["*"] * 4,
            f"{environment}: backup schedule {schedule!r} is not at least hourly",
        )
        require(spec.get("concurrencyPolicy") == "Forbid", f"{environment}: backups may overlap")
        container = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        require(
            container.get("args", [])[:1] == ["backup"], f"{environment}: CronJob runs no backup"
        )
    return f"CronJob {BACKUP_JOB} hourly (staging, production)"


@check(
    SECTION,
    "RPO target: < 1 hour",
    "ops/tests/test_dr.py::test_a_missed_target_fails_the_report",
    scope="drill-measured here; in AWS `inv restore --pitr` uses RDS point-in-time recovery",
)
def rpo_target(s: Sources) -> str:
    target = _target(s, "RPO_TARGET_SECONDS", 60 * 60, "rpo_seconds")
    return f"{target}; {_hourly_backups(s)}"


@check(
    SECTION,
    "Cross-region replication ready (S3 module supports it)",
    f"{STORAGE}::test_cross_region_replication_ready",
)
def cross_region(s: Sources) -> str:
    replica = s.call("backups", "replica_bucket")
    require(
        replica.get("count") == "${var.cross_region_replication ? 1 : 0}",
        "replica_bucket count not switched",
    )
    enabled = s.settings("production")["backups"]["cross_region_replication"]
    require(enabled is True, f"production settings: backups.cross_region_replication = {enabled}")
    return (
        "infra/modules/backups module.replica_bucket; "
        "production backups.cross_region_replication = true"
    )
