"""Checklist "Infrastructure": the Terraform modules and the per-environment settings."""

from __future__ import annotations

from detection_ops.readiness.model import check, require
from detection_ops.readiness.sources import Sources

SECTION = "Infrastructure"
TESTS = "infra/tests/test_checklist_infrastructure.py"


@check(
    SECTION,
    "VPC with public/private/database subnet tiers",
    f"{TESTS}::test_vpc_with_public_private_database_subnet_tiers",
)
def vpc_subnet_tiers(s: Sources) -> str:
    vpc = s.call("network", "vpc")
    for tier in ("public", "private", "database"):
        require(vpc.get(f"{tier}_subnets"), f"module.vpc: no {tier}_subnets")
    require(vpc.get("create_database_subnet_group") is True, "module.vpc: no database subnet group")
    return (
        "infra/modules/network module.vpc: public/private/database_subnets, database subnet group"
    )


@check(
    SECTION,
    "NAT gateways per AZ for HA (production)",
    f"{TESTS}::test_nat_gateways_per_az_for_ha_production",
)
def nat_per_az(s: Sources) -> str:
    vpc = s.call("network", "vpc")
    require(vpc.get("enable_nat_gateway") is True, "module.vpc: enable_nat_gateway is not true")
    require(
        vpc.get("one_nat_gateway_per_az") == "${!var.single_nat_gateway}",
        "module.vpc: one_nat_gateway_per_az does not follow !var.single_nat_gateway",
    )
    single = s.settings("production")["network"]["single_nat_gateway"]
    require(single is False, f"production settings: network.single_nat_gateway = {single}")
    return (
        "infra/modules/network module.vpc one_nat_gateway_per_az; "
        "infra/envs/production/settings.tf network.single_nat_gateway = false"
    )


@check(SECTION, "VPC flow logs enabled", f"{TESTS}::test_vpc_flow_logs_enabled")
def flow_logs(s: Sources) -> str:
    vpc = s.call("network", "vpc")
    require(vpc.get("enable_flow_log") is True, "module.vpc: enable_flow_log is not true")
    require(
        vpc.get("flow_log_traffic_type") == "ALL", "module.vpc: flow_log_traffic_type is not ALL"
    )
    return "infra/modules/network module.vpc: enable_flow_log = true, traffic ALL"


@check(
    SECTION,
    "EKS cluster with private endpoint (production)",
    f"{TESTS}::test_eks_cluster_with_private_endpoint_production",
)
def eks_private_endpoint(s: Sources) -> str:
    eks = s.call("cluster", "eks")
    require(
        eks.get("endpoint_private_access") is True,
        "module.eks: endpoint_private_access is not true",
    )
    public = s.settings("production")["cluster"]["endpoint_public_access"]
    require(public is False, f"production settings: cluster.endpoint_public_access = {public}")
    return (
        "infra/modules/cluster module.eks endpoint_private_access = true; "
        "production cluster.endpoint_public_access = false"
    )


@check(
    SECTION,
    "Separate node groups: application and monitoring",
    f"{TESTS}::test_separate_node_groups_application_and_monitoring",
)
def node_groups(s: Sources) -> str:
    groups = s.call("cluster", "eks").get("eks_managed_node_groups", {})
    require(
        set(groups) == {"application", "monitoring"}, f"module.eks node groups: {sorted(groups)}"
    )
    require(groups["monitoring"].get("taints"), "monitoring node group is not tainted")
    return "infra/modules/cluster module.eks node groups: application, monitoring (tainted)"


@check(
    SECTION,
    "Auto-scaling configured (3-10 application nodes)",
    f"{TESTS}::test_auto_scaling_configured_3_10_application_nodes",
)
def node_autoscaling(s: Sources) -> str:
    application = s.settings("production")["cluster"]["application"]
    sizes = (application["min_size"], application["max_size"])
    require(sizes == (3, 10), f"production settings: application nodes {sizes[0]}-{sizes[1]}")
    autoscaler = s.resource("cluster", "helm_release", "cluster_autoscaler")
    require(
        autoscaler.get("chart") == "cluster-autoscaler", "helm_release.cluster_autoscaler chart"
    )
    return (
        "infra/envs/production/settings.tf cluster.application 3-10; "
        "infra/modules/cluster helm_release.cluster_autoscaler"
    )


@check(
    SECTION,
    "EBS CSI driver for persistent volumes",
    f"{TESTS}::test_ebs_csi_driver_for_persistent_volumes",
)
def ebs_csi(s: Sources) -> str:
    addons = s.call("cluster", "eks").get("addons", {})
    require("aws-ebs-csi-driver" in addons, "module.eks addons: no aws-ebs-csi-driver")
    require(
        s.call("cluster", "ebs_csi_irsa").get("attach_ebs_csi_policy") is True,
        "ebs_csi_irsa policy",
    )
    return "infra/modules/cluster module.eks addons.aws-ebs-csi-driver with module.ebs_csi_irsa"


@check(
    SECTION, "gp3 storage class for performance", f"{TESTS}::test_gp3_storage_class_for_performance"
)
def gp3_storage_class(s: Sources) -> str:
    gp3 = s.resource("cluster", "kubernetes_storage_class_v1", "gp3")
    require(gp3.get("parameters", {}).get("type") == "gp3", "storage class gp3: parameters.type")
    (metadata,) = gp3["metadata"]
    default = metadata.get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
    require(default == "true", "storage class gp3 is not the default class")
    return "infra/modules/cluster kubernetes_storage_class_v1.gp3: type gp3, default class"
