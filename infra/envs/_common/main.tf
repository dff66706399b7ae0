# Wiring shared by every environment (each env folder links this file); what differs per
# environment lives in that folder's settings.tf and backend.tf.

data "aws_caller_identity" "current" {}

locals {
  # Role created by infra/bootstrap (modules/github-oidc) for `terraform plan` in CI.
  plan_role_arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/detection-api-terraform-plan"

  kubernetes_exec = {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", module.cluster.cluster_name, "--region", module.settings.aws_region]
  }
}

provider "aws" {
  region = module.settings.aws_region

  default_tags {
    tags = module.settings.tags
  }
}

provider "aws" {
  alias  = "replica"
  region = module.settings.backups.replica_region

  default_tags {
    tags = module.settings.tags
  }
}

provider "kubernetes" {
  host                   = module.cluster.cluster_endpoint
  cluster_ca_certificate = base64decode(module.cluster.cluster_certificate_authority_data)

  exec {
    api_version = local.kubernetes_exec.api_version
    command     = local.kubernetes_exec.command
    args        = local.kubernetes_exec.args
  }
}

provider "helm" {
  kubernetes = {
    host                   = module.cluster.cluster_endpoint
    cluster_ca_certificate = base64decode(module.cluster.cluster_certificate_authority_data)
    exec                   = local.kubernetes_exec
  }
}

module "network" {
  source = "../../modules/network"

  name               = module.settings.name
  vpc_cidr           = module.settings.network.vpc_cidr
  availability_zones = module.settings.network.availability_zones
  subnets            = module.settings.subnets
  single_nat_gateway = module.settings.network.single_nat_gateway
  cluster_name       = module.settings.name
  tags               = module.settings.tags
}

module "cluster" {
  source = "../../modules/cluster"

  name                   = module.settings.name
  kubernetes_version     = module.settings.cluster.kubernetes_version
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.private_subnet_ids
  endpoint_public_access = module.settings.cluster.endpoint_public_access
  read_only_role_arns    = [local.plan_role_arn]

  node_groups = {
    application = module.settings.cluster.application
    monitoring  = module.settings.cluster.monitoring
  }

  app_service_account = {
    namespace = "detection-api"
    name      = "detection-api"
  }
  app_policy_arns = {
    database = module.database.connect_policy_arn
  }
  # The chart's backup CronJob (release detection-api): pg_dump through RDS IAM auth, upload.
  backup_service_account = {
    namespace = "detection-api"
    name      = "detection-api-backup"
  }
  backup_policy_arns = {
    backups  = module.backups.writer_policy_arn
    database = module.database.connect_policy_arn
  }

  tags = module.settings.tags
}

module "registry" {
  source = "../../modules/registry"

  name = module.settings.name
  tags = module.settings.tags
}

module "database" {
  source = "../../modules/database"

  name                      = module.settings.name
  instance_class            = module.settings.database.instance_class
  allocated_storage_gib     = module.settings.database.allocated_storage_gib
  max_allocated_storage_gib = module.settings.database.max_allocated_storage_gib
  multi_az                  = module.settings.database.multi_az
  read_replicas             = module.settings.database.read_replicas
  deletion_protection       = module.settings.database.deletion_protection
  parameters                = module.settings.database.parameters

  vpc_id                    = module.network.vpc_id
  db_subnet_group_name      = module.network.database_subnet_group_name
  client_security_group_ids = [module.cluster.node_security_group_id]

  tags = module.settings.tags
}

module "rate_limits" {
  source = "../../modules/rate-limits"

  name                     = module.settings.name
  node_type                = module.settings.rate_limits.node_type
  nodes                    = module.settings.rate_limits.nodes
  vpc_id                   = module.network.vpc_id
  subnet_ids               = module.network.database_subnet_ids
  client_security_group_id = module.cluster.node_security_group_id
  tags                     = module.settings.tags
}

module "backups" {
  source = "../../modules/backups"
  providers = {
    aws         = aws
    aws.replica = aws.replica
  }

  name                     = module.settings.name
  cross_region_replication = module.settings.backups.cross_region_replication
  tags                     = module.settings.tags
}
