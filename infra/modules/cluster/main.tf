data "aws_region" "current" {}

locals {
  autoscaler_tags = {
    "k8s.io/cluster-autoscaler/enabled"     = "true"
    "k8s.io/cluster-autoscaler/${var.name}" = "owned"
  }
  monitoring_taint = {
    key    = "workload"
    value  = "monitoring"
    effect = "NO_SCHEDULE"
  }
}

module "secrets_key" {
  source = "../encryption"

  alias       = "${var.name}/eks-secrets"
  description = "Envelope encryption of Kubernetes secrets in ${var.name}"
  tags        = var.tags
}

module "logs_key" {
  source = "../encryption"

  alias           = "${var.name}/eks-logs"
  description     = "EKS control plane logs of ${var.name}"
  cloudwatch_logs = true
  tags            = var.tags
}

module "volumes_key" {
  source = "../encryption"

  alias       = "${var.name}/ebs"
  description = "EBS volumes (persistent volumes) of ${var.name}"
  tags        = var.tags
}

module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "21.9.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name               = var.name
  kubernetes_version = var.kubernetes_version

  # At the end of standard support EKS upgrades the control plane instead of billing extended
  # support (six times the hourly price); docs/cost.md assumes standard support.
  upgrade_policy = {
    support_type = "STANDARD"
  }

  vpc_id                   = var.vpc_id
  subnet_ids               = var.subnet_ids
  control_plane_subnet_ids = var.subnet_ids

  endpoint_private_access      = true
  endpoint_public_access       = var.endpoint_public_access
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs

  # The environment's apply role creates the cluster and administers it; the plan role only reads.
  enable_cluster_creator_admin_permissions = true
  access_entries = {
    for index, arn in var.read_only_role_arns : "read-only-${index}" => {
      principal_arn = arn
      policy_associations = {
        view = {
          policy_arn   = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy"
          access_scope = { type = "cluster" }
        }
      }
    }
  }

  create_kms_key = false
  encryption_config = {
    resources        = ["secrets"]
    provider_key_arn = module.secrets_key.key_arn
  }

  enabled_log_types                      = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = module.logs_key.key_arn

  enable_irsa = true

  addons = {
    coredns    = {}
    kube-proxy = {}
    vpc-cni = {
      before_compute = true
    }
    aws-ebs-csi-driver = {
      service_account_role_arn = module.ebs_csi_irsa.arn
    }
  }

  eks_managed_node_groups = {
    application = {
      name           = "application"
      instance_types = var.node_groups.application.instance_types
      min_size       = var.node_groups.application.min_size
      max_size       = var.node_groups.application.max_size
      desired_size   = var.node_groups.application.desired_size
      labels         = { workload = "application" }
      tags           = local.autoscaler_tags
    }

    monitoring = {
      name           = "monitoring"
      instance_types = var.node_groups.monitoring.instance_types
      min_size       = var.node_groups.monitoring.min_size
      max_size       = var.node_groups.monitoring.max_size
      desired_size   = var.node_groups.monitoring.desired_size
      labels         = { workload = "monitoring" }
      taints         = { monitoring = local.monitoring_taint }
      tags           = local.autoscaler_tags
    }
  }

  tags = var.tags
}
