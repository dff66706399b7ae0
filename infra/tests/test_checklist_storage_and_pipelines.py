"""Checklist "Disaster Recovery" (storage side), "Observability" (CloudWatch) and "CI/CD"
(OIDC, remote state): one test per item, reading the real Terraform inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detection_ops.infra import ENVIRONMENTS, INFRA_DIR, hcl

Module = Callable[[str], dict[str, Any]]


def _call(module: Module, name: str, call: str) -> dict[str, Any]:
    body: dict[str, Any] = hcl.blocks(module(name), "module")[call]
    return body


def _assert_private_bucket(module: Module) -> None:
    bucket = _call(module, "private-bucket", "bucket")
    assert bucket["versioning"] == {"enabled": True}
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert bucket[setting] is True, setting
    assert bucket["attach_deny_insecure_transport_policy"] is True
    assert bucket["attach_require_latest_tls_policy"] is True
    assert bucket["object_ownership"] == "BucketOwnerEnforced"
    assert (
        bucket["server_side_encryption_configuration"]["rule"][
            "apply_server_side_encryption_by_default"
        ]["sse_algorithm"]
        == "aws:kms"
    )


def test_s3_backup_storage_with_encryption_and_lifecycle_policies(module: Module) -> None:
    _assert_private_bucket(module)
    bucket = _call(module, "backups", "bucket")
    assert bucket["source"] == "../private-bucket"
    assert bucket["kms_key_arn"] == "${module.key.key_arn}"
    assert bucket["lifecycle_rules"] == "${local.lifecycle_rules}"
    prefixes = hcl.blocks(module("backups"), "variable")["prefixes"]["default"]
    assert set(prefixes) == {"postgres/", "sqlite/"}
    for rule in prefixes.values():
        assert (
            rule["infrequent_access_after_days"]
            < rule["glacier_after_days"]
            < rule["expire_after_days"]
        )
    rules = hcl.locals_of(module("backups"))["lifecycle_rules"]
    assert "STANDARD_IA" in rules
    assert "GLACIER_IR" in rules
    assert "expire_after_days" in rules


def test_cross_region_replication_ready(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    bucket = _call(module, "backups", "bucket")
    assert bucket["replication_configuration"].startswith("${var.cross_region_replication ?")
    replica = _call(module, "backups", "replica_bucket")
    assert replica["count"] == "${var.cross_region_replication ? 1 : 0}"
    assert replica["providers"] == {"aws": "${aws.replica}"}
    assert replica["source"] == "../private-bucket"
    assert replica["kms_key_arn"] == "${module.replica_key[0].key_arn}"
    assert wiring["backups"]["cross_region_replication"] == (
        "${module.settings.backups.cross_region_replication}"
    )
    assert env_settings["production"]["backups"]["cross_region_replication"] is True


def test_cloudwatch_for_eks_control_plane_and_vpc_flow_logs(module: Module) -> None:
    eks = _call(module, "cluster", "eks")
    assert set(eks["enabled_log_types"]) == {
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    }
    assert eks["cloudwatch_log_group_kms_key_id"] == "${module.logs_key.key_arn}"
    assert eks["cloudwatch_log_group_retention_in_days"] == "${var.log_retention_days}"
    vpc = _call(module, "network", "vpc")
    assert vpc["enable_flow_log"] is True
    assert vpc["create_flow_log_cloudwatch_log_group"] is True


def test_oidc_based_aws_authentication_no_long_lived_credentials(module: Module) -> None:
    provider = hcl.resources(module("github-oidc"), "aws_iam_openid_connect_provider")["github"]
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    for call in ("plan_role", "apply_role", "deploy_role"):
        role = _call(module, "github-oidc", call)
        assert role["source"] == "terraform-aws-modules/iam/aws//modules/iam-role"
        assert role["enable_github_oidc"] is True
    assert not list(INFRA_DIR.rglob("*.tfvars")), "no credentials or variables files in the repo"


def test_oidc_trust_limited_to_this_repository(module: Module) -> None:
    oidc = module("github-oidc")
    assert hcl.blocks(oidc, "variable")["repository"]["default"] == "detection-api/detection-api"
    local = hcl.locals_of(oidc)
    assert local["plan_subjects"] == [
        "repo:${var.repository}:pull_request",
        "repo:${var.repository}:ref:refs/heads/main",
    ]
    subject = '"repo:${var.repository}:environment:${environment}"'
    assert local["environment_subject"] == (
        f"${{{{for environment in var.environments : environment => {subject}}}}}"
    )
    assert _call(module, "github-oidc", "plan_role")["oidc_subjects"] == "${local.plan_subjects}"
    for call in ("apply_role", "deploy_role"):
        role = _call(module, "github-oidc", call)
        assert role["for_each"] == "${local.environment_subject}"
        assert role["oidc_subjects"] == ["${each.value}"]
        assert "oidc_wildcard_subjects" not in role
    plan_policies = _call(module, "github-oidc", "plan_role")["policies"]
    assert set(plan_policies) == {"ReadOnlyAccess", "State"}
    assert plan_policies["ReadOnlyAccess"].endswith(":iam::aws:policy/ReadOnlyAccess")
    bootstrap = hcl.blocks(hcl.load_dir(INFRA_DIR / "bootstrap"), "module")["github_oidc"]
    assert bootstrap["environments"] == ["dev", "staging", "production"]


def test_plan_role_reads_the_cluster(module: Module, wiring: dict[str, Any]) -> None:
    plan_role = _call(module, "github-oidc", "plan_role")
    assert (plan_role["name"], plan_role["use_name_prefix"]) == (
        "${var.project}-terraform-plan",
        False,
    )
    assert hcl.blocks(module("github-oidc"), "variable")["project"]["default"] == "detection-api"
    common = hcl.locals_of(hcl.load_dir(INFRA_DIR / "envs" / "_common"))
    assert common["plan_role_arn"].endswith(":role/detection-api-terraform-plan")
    assert wiring["cluster"]["read_only_role_arns"] == ["${local.plan_role_arn}"]
    entries = _call(module, "cluster", "eks")["access_entries"]
    assert "AmazonEKSAdminViewPolicy" in entries


def test_terraform_state_in_s3_with_dynamodb_locking(module: Module) -> None:
    keys = set()
    for env in ENVIRONMENTS:
        (terraform,) = hcl.load_file(INFRA_DIR / "envs" / env / "backend.tf")["terraform"]
        (backend,) = terraform["backend"]
        s3 = backend["s3"]
        assert s3["encrypt"] is True
        assert s3["kms_key_id"].startswith("alias/")
        assert s3["dynamodb_table"] == "detection-api-terraform-locks"
        keys.add(s3["key"])
    assert keys == {f"envs/{env}/terraform.tfstate" for env in ENVIRONMENTS}
    table = hcl.resources(module("state-backend"), "aws_dynamodb_table")["locks"]
    assert table["hash_key"] == "LockID"
    assert table["server_side_encryption"] == [
        {"enabled": True, "kms_key_arn": "${module.key.key_arn}"}
    ]
    assert table["point_in_time_recovery"] == [{"enabled": True}]
    assert table["deletion_protection_enabled"] is True
    variables = hcl.blocks(module("state-backend"), "variable")
    assert variables["lock_table_name"]["default"] == "detection-api-terraform-locks"
    state_bucket = _call(module, "state-backend", "bucket")
    assert state_bucket["source"] == "../private-bucket"
    assert state_bucket["kms_key_arn"] == "${module.key.key_arn}"
    _assert_private_bucket(module)
