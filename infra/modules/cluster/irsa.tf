# IAM roles for service accounts: each pod gets only its own permissions, no shared credentials.

module "ebs_csi_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name                  = "${var.name}-ebs-csi"
  use_name_prefix       = false
  attach_ebs_csi_policy = true
  ebs_csi_kms_cmk_arns  = [module.volumes_key.key_arn]

  oidc_providers = {
    cluster = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:ebs-csi-controller-sa"]
    }
  }

  tags = var.tags
}

module "cluster_autoscaler_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name                             = "${var.name}-cluster-autoscaler"
  use_name_prefix                  = false
  attach_cluster_autoscaler_policy = true
  cluster_autoscaler_cluster_names = [module.eks.cluster_name]

  oidc_providers = {
    cluster = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["kube-system:cluster-autoscaler"]
    }
  }

  tags = var.tags
}

module "app_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name            = "${var.name}-app"
  use_name_prefix = false
  create_policy   = false
  policies        = var.app_policy_arns

  oidc_providers = {
    cluster = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${var.app_service_account.namespace}:${var.app_service_account.name}"]
    }
  }

  tags = var.tags
}

# The backup CronJob (chart: <release>-backup): writes the backups bucket and connects to the
# database for pg_dump. Kept apart from the application's role, which needs neither write.
module "backup_irsa" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts"
  version = "6.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name            = "${var.name}-backup"
  use_name_prefix = false
  create_policy   = false
  policies        = var.backup_policy_arns

  oidc_providers = {
    cluster = {
      provider_arn               = module.eks.oidc_provider_arn
      namespace_service_accounts = ["${var.backup_service_account.namespace}:${var.backup_service_account.name}"]
    }
  }

  tags = var.tags
}
