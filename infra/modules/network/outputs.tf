output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "vpc_cidr_block" {
  description = "CIDR block of the VPC."
  value       = module.vpc.vpc_cidr_block
}

output "azs" {
  description = "Availability zones the subnets span."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "Public subnets (load balancers, NAT gateways)."
  value       = module.vpc.public_subnets
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes and control plane ENIs)."
  value       = module.vpc.private_subnets
}

output "database_subnet_ids" {
  description = "Database subnets (no route to the internet)."
  value       = module.vpc.database_subnets
}

output "database_subnet_group_name" {
  description = "RDS subnet group over the database subnets."
  value       = module.vpc.database_subnet_group_name
}

output "endpoint_subnet_ids" {
  description = "Endpoint subnets (the VPC interface endpoints; no route beyond the VPC)."
  value       = module.vpc.intra_subnets
}

output "interface_endpoint_ids" {
  description = "IDs of the interface endpoints (STS, S3, KMS) by service."
  value = {
    sts = module.endpoints.endpoints["sts_interface"].id
    kms = module.endpoints.endpoints["kms_interface"].id
    s3  = module.endpoints.endpoints["s3_interface"].id
  }
}

output "nat_gateway_ids" {
  description = "NAT gateways: one per AZ, or one shared."
  value       = module.vpc.natgw_ids
}

output "s3_endpoint_id" {
  description = "ID of the S3 gateway endpoint."
  value       = module.endpoints.endpoints["s3"].id
}
