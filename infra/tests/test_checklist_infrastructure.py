"""Checklist "Infrastructure": one test per item, reading the real Terraform inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from detection_ops.infra import hcl

Module = Callable[[str], dict[str, Any]]


def _call(module: Module, name: str, call: str) -> dict[str, Any]:
    body: dict[str, Any] = hcl.blocks(module(name), "module")[call]
    return body


def test_vpc_with_public_private_database_subnet_tiers(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    vpc = _call(module, "network", "vpc")
    assert vpc["source"] == "terraform-aws-modules/vpc/aws"
    for tier in ("public", "private", "database"):
        assert vpc[f"{tier}_subnets"] == f"${{var.subnets.{tier}}}"
    assert vpc["intra_subnets"] == "${var.subnets.endpoints}"
    assert wiring["network"]["subnets"] == "${module.settings.subnets}"
    carved = hcl.locals_of(module("settings"))["subnets"]
    for tier in ("public", "private", "database", "endpoints"):
        assert "cidrsubnet(var.network.vpc_cidr" in carved[tier]
    assert vpc["create_database_subnet_group"] is True
    assert vpc["map_public_ip_on_launch"] is False
    s3 = _call(module, "network", "endpoints")["endpoints"]["s3"]
    assert (s3["service"], s3["service_type"]) == ("s3", "Gateway")
    assert "module.vpc.private_route_table_ids" in s3["route_table_ids"]
    for settings in env_settings.values():
        assert len(settings["network"]["availability_zones"]) == 3


def test_nat_gateways_per_az_for_ha_production(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    vpc = _call(module, "network", "vpc")
    assert vpc["enable_nat_gateway"] is True
    assert vpc["single_nat_gateway"] == "${var.single_nat_gateway}"
    assert vpc["one_nat_gateway_per_az"] == "${!var.single_nat_gateway}"
    assert (
        wiring["network"]["single_nat_gateway"] == "${module.settings.network.single_nat_gateway}"
    )
    assert env_settings["production"]["network"]["single_nat_gateway"] is False


def test_vpc_flow_logs_enabled(module: Module) -> None:
    vpc = _call(module, "network", "vpc")
    assert vpc["enable_flow_log"] is True
    assert vpc["flow_log_traffic_type"] == "ALL"
    assert vpc["flow_log_destination_type"] == "cloud-watch-logs"
    assert vpc["flow_log_cloudwatch_log_group_kms_key_id"] == "${module.flow_log_key.key_arn}"
    retention = hcl.blocks(module("network"), "variable")["flow_log_retention_days"]
    assert retention["default"] >= 365
    assert _call(module, "network", "flow_log_key")["cloudwatch_logs"] is True
    key_policy = hcl.resources(module("encryption"), "aws_iam_policy_document", kind="data")["key"]
    assert "kms:EncryptionContext:aws:logs:arn" in str(key_policy["dynamic"])


def test_eks_cluster_with_private_endpoint_production(
    module: Module, wiring: dict[str, Any], env_settings: dict[str, Any]
) -> None:
    eks = _call(module, "cluster", "eks")
    assert eks["source"] == "terraform-aws-modules/eks/aws"
    assert eks["endpoint_private_access"] is True
    assert eks["endpoint_public_access"] == "${var.endpoint_public_access}"
    assert (
        wiring["cluster"]["endpoint_public_access"]
        == "${module.settings.cluster.endpoint_public_access}"
    )
    assert env_settings["production"]["cluster"]["endpoint_public_access"] is False


def test_separate_node_groups_application_and_monitoring(module: Module) -> None:
    groups = _call(module, "cluster", "eks")["eks_managed_node_groups"]
    assert set(groups) == {"application", "monitoring"}
    assert groups["application"]["labels"] == {"workload": "application"}
    assert groups["monitoring"]["labels"] == {"workload": "monitoring"}
    assert groups["monitoring"]["taints"] == {"monitoring": "${local.monitoring_taint}"}
    taint = hcl.locals_of(module("cluster"))["monitoring_taint"]
    assert taint == {"key": "workload", "value": "monitoring", "effect": "NO_SCHEDULE"}


def test_auto_scaling_configured_3_10_application_nodes(
    module: Module, env_settings: dict[str, Any]
) -> None:
    application = env_settings["production"]["cluster"]["application"]
    assert (application["min_size"], application["max_size"]) == (3, 10)
    group = _call(module, "cluster", "eks")["eks_managed_node_groups"]["application"]
    assert group["min_size"] == "${var.node_groups.application.min_size}"
    assert group["max_size"] == "${var.node_groups.application.max_size}"
    assert group["tags"] == "${local.autoscaler_tags}"
    autoscaler = hcl.resources(module("cluster"), "helm_release")["cluster_autoscaler"]
    assert autoscaler["chart"] == "cluster-autoscaler"
    assert "module.cluster_autoscaler_irsa.arn" in autoscaler["values"][0]
    irsa = _call(module, "cluster", "cluster_autoscaler_irsa")
    assert irsa["attach_cluster_autoscaler_policy"] is True
    assert irsa["oidc_providers"]["cluster"]["namespace_service_accounts"] == [
        "kube-system:cluster-autoscaler"
    ]


def test_ebs_csi_driver_for_persistent_volumes(module: Module) -> None:
    addons = _call(module, "cluster", "eks")["addons"]
    assert addons["aws-ebs-csi-driver"]["service_account_role_arn"] == "${module.ebs_csi_irsa.arn}"
    irsa = _call(module, "cluster", "ebs_csi_irsa")
    assert irsa["attach_ebs_csi_policy"] is True
    assert irsa["ebs_csi_kms_cmk_arns"] == ["${module.volumes_key.key_arn}"]
    assert irsa["oidc_providers"]["cluster"]["namespace_service_accounts"] == [
        "kube-system:ebs-csi-controller-sa"
    ]


def test_gp3_storage_class_for_performance(module: Module, env_settings: dict[str, Any]) -> None:
    classes = hcl.resources(module("cluster"), "kubernetes_storage_class_v1")
    gp3 = classes["gp3"]
    (metadata,) = gp3["metadata"]
    assert metadata["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert gp3["storage_provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"]["type"] == "gp3"
    assert gp3["parameters"]["encrypted"] == "true"
    assert gp3["allow_volume_expansion"] is True
    assert gp3["parameters"]["kmsKeyId"] == "${module.volumes_key.key_arn}"
    # EKS marks gp2 as default only before Kubernetes 1.30; the settings rules require 1.30+.
    for settings in env_settings.values():
        assert int(settings["cluster"]["kubernetes_version"].split(".")[1]) >= 30
