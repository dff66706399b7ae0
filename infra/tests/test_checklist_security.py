"""Checklist "Security" (cloud side): one test per item, reading the real Terraform inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detection_ops.infra import INFRA_DIR, hcl

Module = Callable[[str], dict[str, Any]]


def _call(module: Module, name: str, call: str) -> dict[str, Any]:
    body: dict[str, Any] = hcl.blocks(module(name), "module")[call]
    return body


def _assert_customer_key(module: Module, name: str, call: str) -> None:
    """The call builds a key from the shared encryption module, whose key rotates yearly."""
    assert _call(module, name, call)["source"] == "../encryption"
    key = hcl.resources(module("encryption"), "aws_kms_key")["this"]
    assert key["enable_key_rotation"] is True
    assert key["rotation_period_in_days"] <= 365
    assert key["deletion_window_in_days"] == "${var.deletion_window_in_days}"


def test_kms_encryption_for_eks_secrets(module: Module) -> None:
    eks = _call(module, "cluster", "eks")
    assert eks["create_kms_key"] is False
    assert eks["encryption_config"] == {
        "resources": ["secrets"],
        "provider_key_arn": "${module.secrets_key.key_arn}",
    }
    _assert_customer_key(module, "cluster", "secrets_key")


def test_kms_encryption_for_rds_storage(module: Module) -> None:
    for call in ("primary", "replica"):
        database = _call(module, "database", call)
        assert database["storage_encrypted"] is True
        assert database["kms_key_id"] == "${module.storage_key.key_arn}"
    _assert_customer_key(module, "database", "storage_key")


def test_kms_encryption_for_s3_backups(module: Module) -> None:
    bucket = _call(module, "backups", "bucket")
    assert bucket["source"] == "../private-bucket"
    assert bucket["kms_key_arn"] == "${module.key.key_arn}"
    rule = _call(module, "private-bucket", "bucket")["server_side_encryption_configuration"]["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": "${var.kms_key_arn}",
    }
    assert rule["bucket_key_enabled"] is True
    _assert_customer_key(module, "backups", "key")


def _assert_irsa_role(
    module: Module, wiring: dict[str, Any], role: str, service_account: str
) -> None:
    """module.<role>_irsa trusts exactly the ServiceAccount the envs name, with its own policies.
    The chart's values name it arn:aws:iam::<account>:role/detection-api-<env>-<role>."""
    body = _call(module, "cluster", f"{role}_irsa")
    account = f"var.{role}_service_account"
    assert body["oidc_providers"]["cluster"]["namespace_service_accounts"] == [
        f"${{{account}.namespace}}:${{{account}.name}}"
    ]
    assert body["policies"] == f"${{var.{role}_policy_arns}}"
    assert (body["name"], body["use_name_prefix"]) == (f"${{var.name}}-{role}", False)
    assert wiring["cluster"][f"{role}_service_account"] == {
        "namespace": "detection-api",
        "name": service_account,
    }


def test_irsa_for_pod_level_iam_no_shared_credentials(
    module: Module, wiring: dict[str, Any]
) -> None:
    assert _call(module, "cluster", "eks")["enable_irsa"] is True
    _assert_irsa_role(module, wiring, "app", "detection-api")
    assert wiring["cluster"]["app_policy_arns"] == {
        "database": "${module.database.connect_policy_arn}",
    }
    for path in INFRA_DIR.rglob("*.tf"):
        text = path.read_text()
        assert '"aws_iam_access_key"' not in text, path
        assert '"aws_iam_user"' not in text, path


def test_rds_ssl_enforced_force_ssl_1(module: Module) -> None:
    parameters = {p["name"]: p for p in hcl.locals_of(module("database"))["parameters"]}
    assert parameters["rds.force_ssl"]["value"] == "1"
    assert _call(module, "database", "primary")["parameters"] == "${local.parameters}"
    variables = hcl.blocks(module("database"), "variable")
    assert "force_ssl" not in str(variables), "rds.force_ssl is fixed in the module, never an input"


def test_backup_role_alone_writes_backups_and_connects_for_pg_dump(
    module: Module, wiring: dict[str, Any]
) -> None:
    """The backup CronJob's ServiceAccount has its own role; the service's cannot write backups."""
    # The chart's ServiceAccount <release>-backup, for the release detection-api.
    _assert_irsa_role(module, wiring, "backup", "detection-api-backup")
    assert wiring["cluster"]["backup_policy_arns"] == {
        "backups": "${module.backups.writer_policy_arn}",
        "database": "${module.database.connect_policy_arn}",
    }
    writer = "${module.backups.writer_policy_arn}"
    assert writer not in wiring["cluster"]["app_policy_arns"].values()
    validation = hcl.blocks(module("cluster"), "variable")["app_policy_arns"]["validation"]
    assert '!contains(keys(var.app_policy_arns), "backups")' in str(validation)


def test_backup_role_arn_is_an_output_of_every_environment() -> None:
    outputs = hcl.blocks(hcl.load_dir(INFRA_DIR / "envs" / "_common"), "output")
    assert outputs["backup_irsa_role_arn"]["value"] == "${module.cluster.backup_irsa_role_arn}"
    module_outputs = hcl.blocks(hcl.load_dir(INFRA_DIR / "modules" / "cluster"), "output")
    assert module_outputs["backup_irsa_role_arn"]["value"] == "${module.backup_irsa.arn}"


def test_backup_role_writes_backups_and_connects_as_detection_api(module: Module) -> None:
    writer = hcl.resources(module("backups"), "aws_iam_policy_document", kind="data")["writer"]
    statements = {statement["sid"]: statement for statement in writer["statement"]}
    assert statements["ReadWriteBackups"]["actions"] == [
        "s3:GetObject",
        "s3:PutObject",
        "s3:GetObjectVersion",
    ]
    assert "var.prefixes" in statements["ReadWriteBackups"]["resources"]
    assert statements["UseBackupKey"]["resources"] == ["${module.key.key_arn}"]
    connect = hcl.resources(module("database"), "aws_iam_policy_document", kind="data")["connect"]
    assert connect["statement"][0]["actions"] == ["rds-db:connect"]


def test_registry_immutable_scanned_encrypted(module: Module) -> None:
    repository = hcl.resources(module("registry"), "aws_ecr_repository")["this"]
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert repository["encryption_configuration"] == [
        {"encryption_type": "KMS", "kms_key": "${module.key.key_arn}"}
    ]
    lifecycle = hcl.resources(module("registry"), "aws_ecr_lifecycle_policy")["this"]
    assert '"untagged"' in lifecycle["policy"]
