locals {
  azs = var.availability_zones

  # /16 layout: public /24s at 10.x.0-2.0, private /20s at 10.x.16-63.0, database /24s at 10.x.64-66.0.
  public_subnets   = [for index in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, index)]
  private_subnets  = [for index in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 4, index + 1)]
  database_subnets = [for index in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, 64 + index)]
}

module "flow_log_key" {
  source = "../encryption"

  alias           = "${var.name}/vpc-flow-logs"
  description     = "VPC flow logs of ${var.name}"
  cloudwatch_logs = true
  tags            = var.tags
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "6.5.1"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name = var.name
  cidr = var.vpc_cidr
  azs  = local.azs

  public_subnets   = local.public_subnets
  private_subnets  = local.private_subnets
  database_subnets = local.database_subnets

  create_database_subnet_group       = true
  create_database_subnet_route_table = true
  map_public_ip_on_launch            = false

  enable_dns_hostnames = true
  enable_dns_support   = true

  enable_nat_gateway     = true
  single_nat_gateway     = var.single_nat_gateway
  one_nat_gateway_per_az = !var.single_nat_gateway

  # The default security group allows nothing; every workload gets its own group.
  manage_default_security_group  = true
  default_security_group_ingress = []
  default_security_group_egress  = []

  enable_flow_log                                 = true
  flow_log_destination_type                       = "cloud-watch-logs"
  create_flow_log_cloudwatch_log_group            = true
  create_flow_log_cloudwatch_iam_role             = true
  flow_log_traffic_type                           = "ALL"
  flow_log_max_aggregation_interval               = 60
  flow_log_cloudwatch_log_group_retention_in_days = var.flow_log_retention_days
  flow_log_cloudwatch_log_group_kms_key_id        = module.flow_log_key.key_arn

  public_subnet_tags = {
    "kubernetes.io/role/elb"                    = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  }

  private_subnet_tags = {
    "kubernetes.io/role/internal-elb"           = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  }

  tags = var.tags
}

# S3 traffic (backups, ECR layers) stays on the AWS network and skips the NAT gateways.
module "endpoints" {
  source  = "terraform-aws-modules/vpc/aws//modules/vpc-endpoints"
  version = "6.5.1"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  vpc_id = module.vpc.vpc_id

  endpoints = {
    s3 = {
      service         = "s3"
      service_type    = "Gateway"
      route_table_ids = concat(module.vpc.private_route_table_ids, module.vpc.database_route_table_ids)
      tags            = { Name = "${var.name}-s3" }
    }
  }

  tags = var.tags
}
