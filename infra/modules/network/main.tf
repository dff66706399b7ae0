locals {
  azs = var.availability_zones
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

  public_subnets   = var.subnets.public
  private_subnets  = var.subnets.private
  database_subnets = var.subnets.database
  # No route beyond the VPC: the interface endpoints' addresses only.
  intra_subnets      = var.subnets.endpoints
  intra_subnet_names = [for zone in local.azs : "${var.name}-endpoints-${zone}"]

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

# AWS API traffic stays on the AWS network and skips the NAT gateways.
module "endpoints" {
  source  = "terraform-aws-modules/vpc/aws//modules/vpc-endpoints"
  version = "6.5.1"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  vpc_id = module.vpc.vpc_id

  create_security_group      = true
  security_group_name_prefix = "${var.name}-endpoints-"
  security_group_description = "VPC interface endpoints of ${var.name}: HTTPS from the private subnets"
  security_group_rules = {
    https_from_private_subnets = {
      description = "HTTPS from the nodes and pods"
      type        = "ingress"
      protocol    = "tcp"
      from_port   = 443
      to_port     = 443
      cidr_blocks = var.subnets.private
    }
  }

  endpoints = {
    # S3 off the NAT gateways for clients that bypass the VPC resolver; the VPC's own S3 names
    # resolve to the interface endpoint below.
    s3 = {
      service         = "s3"
      service_type    = "Gateway"
      route_table_ids = concat(module.vpc.private_route_table_ids, module.vpc.database_route_table_ids)
      tags            = { Name = "${var.name}-s3" }
    }
    # The AWS APIs the pods call, at addresses in the endpoints tier: STS (IRSA credentials, which
    # also sign the RDS IAM tokens), S3 and KMS (backups). Private DNS makes the SDKs' usual host
    # names resolve here, so the chart's NetworkPolicies can allow exactly these subnets.
    sts_interface = {
      service             = "sts"
      subnet_ids          = module.vpc.intra_subnets
      private_dns_enabled = true
      tags                = { Name = "${var.name}-sts" }
    }
    kms_interface = {
      service             = "kms"
      subnet_ids          = module.vpc.intra_subnets
      private_dns_enabled = true
      tags                = { Name = "${var.name}-kms" }
    }
    s3_interface = {
      service             = "s3"
      subnet_ids          = module.vpc.intra_subnets
      private_dns_enabled = true
      # For every resolver: the VPC's own S3 traffic comes here too, not to the gateway, whose
      # addresses are S3's public ranges that no NetworkPolicy can name.
      dns_options = { private_dns_only_for_inbound_resolver_endpoint = false }
      tags        = { Name = "${var.name}-s3-interface" }
    }
  }

  tags = var.tags
}
