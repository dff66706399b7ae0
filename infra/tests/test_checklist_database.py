"""Checklist "Database": one test per item, reading the real Terraform inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detection_ops.infra import hcl

Module = Callable[[str], dict[str, Any]]


def _call(module: Module, call: str) -> dict[str, Any]:
    body: dict[str, Any] = hcl.blocks(module("database"), "module")[call]
    return body


def test_rds_postgresql_16_with_multi_az(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    primary = _call(module, "primary")
    assert primary["source"] == "terraform-aws-modules/rds/aws"
    assert (primary["engine"], primary["major_engine_version"]) == ("postgres", "16")
    assert hcl.locals_of(module("database"))["family"] == "postgres16"
    assert hcl.blocks(module("database"), "variable")["engine_version"]["default"].startswith("16.")
    assert primary["multi_az"] == "${var.multi_az}"
    assert wiring["database"]["multi_az"] == "${module.settings.database.multi_az}"
    assert env_settings["production"]["database"]["multi_az"] is True


def test_read_replica_for_query_offloading(module: Module, env_settings: dict[str, Any]) -> None:
    replica = _call(module, "replica")
    assert replica["count"] == "${var.read_replicas}"
    assert replica["replicate_source_db"] == "${module.primary.db_instance_identifier}"
    assert replica["parameter_group_name"] == "${module.primary.db_parameter_group_id}"
    assert env_settings["production"]["database"]["read_replicas"] >= 1


def test_automated_backups_30_day_retention(module: Module) -> None:
    primary = _call(module, "primary")
    assert primary["backup_retention_period"] == 30
    assert primary["skip_final_snapshot"] is False
    assert primary["copy_tags_to_snapshot"] is True


def test_performance_insights_enabled(module: Module) -> None:
    for call in ("primary", "replica"):
        database = _call(module, call)
        assert database["performance_insights_enabled"] is True
        assert database["performance_insights_kms_key_id"] == "${module.storage_key.key_arn}"


def test_enhanced_monitoring_enabled(module: Module) -> None:
    primary, replica = _call(module, "primary"), _call(module, "replica")
    assert primary["monitoring_interval"] == replica["monitoring_interval"] == 60
    assert primary["create_monitoring_role"] is True
    assert replica["monitoring_role_arn"] == "${module.primary.enhanced_monitoring_iam_role_arn}"


def test_custom_parameter_group_tuned_for_workload(module: Module) -> None:
    primary = _call(module, "primary")
    assert primary["create_db_parameter_group"] is True
    assert primary["parameters"] == "${local.parameters}"
    parameters = {p["name"]: p["value"] for p in hcl.locals_of(module("database"))["parameters"]}
    # Each memory parameter is fed from the input that names its PostgreSQL unit.
    assert parameters["shared_buffers"] == "${tostring(var.parameters.shared_buffers_8kb)}"
    assert (
        parameters["effective_cache_size"] == "${tostring(var.parameters.effective_cache_size_8kb)}"
    )
    assert parameters["work_mem"] == "${tostring(var.parameters.work_mem_kb)}"
    assert (
        parameters["maintenance_work_mem"] == "${tostring(var.parameters.maintenance_work_mem_kb)}"
    )


def test_connection_pooling_ready_max_connections_200(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    parameters = {p["name"]: p["value"] for p in hcl.locals_of(module("database"))["parameters"]}
    assert parameters["max_connections"] == "${tostring(var.parameters.max_connections)}"
    assert wiring["database"]["parameters"] == "${module.settings.database.parameters}"
    for settings in env_settings.values():
        assert settings["database"]["parameters"]["max_connections"] == 200


def test_cloudwatch_alarms_cpu_storage_replica_lag(module: Module) -> None:
    alarms = hcl.resources(module("database"), "aws_cloudwatch_metric_alarm")
    metrics = {name: alarm["metric_name"] for name, alarm in alarms.items()}
    assert metrics == {
        "cpu": "CPUUtilization",
        "free_storage": "FreeStorageSpace",
        "replica_lag": "ReplicaLag",
    }
    for alarm in alarms.values():
        assert alarm["alarm_actions"] == ["${aws_sns_topic.alarms.arn}"]
    assert alarms["replica_lag"]["count"] == "${var.read_replicas}"
    topic = hcl.resources(module("database"), "aws_sns_topic")["alarms"]
    assert topic["kms_master_key_id"] == "${module.logs_key.key_arn}"


def test_iam_database_authentication_enabled(module: Module) -> None:
    for call in ("primary", "replica"):
        assert _call(module, call)["iam_database_authentication_enabled"] is True
    assert (
        hcl.blocks(module("database"), "variable")["iam_database_user"]["default"]
        == "detection_api"
    )
    connect = hcl.resources(module("database"), "aws_iam_policy_document", kind="data")["connect"]
    (policy,) = connect["statement"]
    assert policy["actions"] == ["rds-db:connect"]
    assert "/${var.iam_database_user}" in str(policy["resources"])


def test_deletion_protection_in_production(module: Module, env_settings: dict[str, Any]) -> None:
    assert _call(module, "primary")["deletion_protection"] == "${var.deletion_protection}"
    assert env_settings["production"]["database"]["deletion_protection"] is True
