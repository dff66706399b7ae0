"""Checklist "Database": the RDS module and the per-environment settings."""

from __future__ import annotations

from detection_ops.infra import ENVIRONMENTS, hcl
from detection_ops.readiness.model import check, require
from detection_ops.readiness.sources import Sources

SECTION = "Database"
TESTS = "infra/tests/test_checklist_database.py"
MODULE = "infra/modules/database"


def _parameters(s: Sources) -> dict[str, str]:
    return {p["name"]: p["value"] for p in hcl.locals_of(s.module("database"))["parameters"]}


@check(SECTION, "RDS PostgreSQL 16 with Multi-AZ", f"{TESTS}::test_rds_postgresql_16_with_multi_az")
def postgres_16_multi_az(s: Sources) -> str:
    primary = s.call("database", "primary")
    engine = (primary.get("engine"), primary.get("major_engine_version"))
    require(engine == ("postgres", "16"), f"{MODULE} module.primary engine {engine}")
    require(primary.get("multi_az") == "${var.multi_az}", "module.primary multi_az not wired")
    multi_az = s.settings("production")["database"]["multi_az"]
    require(multi_az is True, f"production settings: database.multi_az = {multi_az}")
    return f"{MODULE} module.primary postgres 16; production database.multi_az = true"


@check(
    SECTION, "Read replica for query offloading", f"{TESTS}::test_read_replica_for_query_offloading"
)
def read_replica(s: Sources) -> str:
    replica = s.call("database", "replica")
    require(replica.get("replicate_source_db"), "module.replica has no replicate_source_db")
    count = s.settings("production")["database"]["read_replicas"]
    require(count >= 1, f"production settings: database.read_replicas = {count}")
    return f"{MODULE} module.replica; production database.read_replicas = {count}"


@check(
    SECTION,
    "Automated backups (30-day retention)",
    f"{TESTS}::test_automated_backups_30_day_retention",
)
def automated_backups(s: Sources) -> str:
    days = s.call("database", "primary").get("backup_retention_period")
    require(days == 30, f"module.primary backup_retention_period = {days}")
    return f"{MODULE} module.primary backup_retention_period = 30"


@check(SECTION, "Performance Insights enabled", f"{TESTS}::test_performance_insights_enabled")
def performance_insights(s: Sources) -> str:
    for call in ("primary", "replica"):
        enabled = s.call("database", call).get("performance_insights_enabled")
        require(enabled is True, f"module.{call} performance_insights_enabled = {enabled}")
    return f"{MODULE} module.primary/replica performance_insights_enabled = true"


@check(SECTION, "Enhanced Monitoring enabled", f"{TESTS}::test_enhanced_monitoring_enabled")
def enhanced_monitoring(s: Sources) -> str:
    for call in ("primary", "replica"):
        interval = s.call("database", call).get("monitoring_interval", 0)
        require(interval > 0, f"module.{call} monitoring_interval = {interval}")
    return f"{MODULE} module.primary/replica monitoring_interval = 60 s"


@check(
    SECTION,
    "Custom parameter group (tuned for workload)",
    f"{TESTS}::test_custom_parameter_group_tuned_for_workload",
)
def parameter_group(s: Sources) -> str:
    primary = s.call("database", "primary")
    require(
        primary.get("create_db_parameter_group") is True, "module.primary uses the default group"
    )
    tuned = {"shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem"}
    missing = tuned - set(_parameters(s))
    require(not missing, f"{MODULE} locals.parameters lacks {sorted(missing)}")
    return f"{MODULE} create_db_parameter_group, locals.parameters: {', '.join(sorted(tuned))}"


@check(
    SECTION,
    "Connection pooling ready (max_connections: 200)",
    f"{TESTS}::test_connection_pooling_ready_max_connections_200",
)
def max_connections(s: Sources) -> str:
    require("max_connections" in _parameters(s), f"{MODULE} locals.parameters: no max_connections")
    for environment in ENVIRONMENTS:
        value = s.settings(environment)["database"]["parameters"]["max_connections"]
        require(
            value == 200, f"{environment} settings: database.parameters.max_connections = {value}"
        )
    return "infra/envs/*/settings.tf database.parameters.max_connections = 200 -> parameter group"


@check(
    SECTION,
    "CloudWatch alarms (CPU, storage, replica lag)",
    f"{TESTS}::test_cloudwatch_alarms_cpu_storage_replica_lag",
)
def cloudwatch_alarms(s: Sources) -> str:
    alarms = hcl.resources(s.module("database"), "aws_cloudwatch_metric_alarm")
    metrics = {alarm.get("metric_name") for alarm in alarms.values()}
    wanted = {"CPUUtilization", "FreeStorageSpace", "ReplicaLag"}
    require(wanted <= metrics, f"{MODULE}: no alarm on {sorted(wanted - metrics)}")
    return f"{MODULE} aws_cloudwatch_metric_alarm: {', '.join(sorted(wanted))}"


@check(
    SECTION,
    "IAM database authentication enabled",
    f"{TESTS}::test_iam_database_authentication_enabled",
)
def iam_auth(s: Sources) -> str:
    for call in ("primary", "replica"):
        enabled = s.call("database", call).get("iam_database_authentication_enabled")
        require(enabled is True, f"module.{call} iam_database_authentication_enabled = {enabled}")
    iam = s.yaml("charts/detection-api/values-production.yaml")["database"].get("iamAuth")
    require(iam is True, "values-production.yaml database.iamAuth is not true")
    return f"{MODULE} iam_database_authentication_enabled; values-production.yaml database.iamAuth"
