output "name" {
  description = "Resource name prefix: <project>-<environment>."
  value       = local.name
}

output "environment" {
  description = "The validated environment name."
  value       = var.environment
}

output "is_production" {
  description = "True for the production environment."
  value       = local.is_production
}

output "tags" {
  description = "Tags every resource carries."
  value       = local.tags
}

output "aws_region" {
  description = "The validated AWS region."
  value       = var.aws_region
}

output "github_repository" {
  description = "The validated GitHub repository (owner/name)."
  value       = var.github_repository
}

output "network" {
  description = "Validated network sizing."
  value       = var.network
}

output "subnets" {
  description = "Subnet CIDRs per tier (public, private, database, endpoints), one per availability zone in its order."
  value       = local.subnets
}

output "cluster" {
  description = "Validated EKS sizing."
  value       = var.cluster
}

output "database" {
  description = "Validated database sizing."
  value       = var.database
}

output "database_memory" {
  description = "Instance memory and the worst-case memory the parameters allow, in bytes."
  value       = local.db_memory

  precondition {
    condition     = local.db_memory.worst_case_bytes <= local.db_memory.instance_bytes
    error_message = "database memory parameters exceed the instance class memory (shared_buffers + wal_buffers + max_connections x work_mem + autovacuum workers x maintenance_work_mem)."
  }
}

output "rate_limits" {
  description = "Validated rate-limit store sizing."
  value       = var.rate_limits
}

output "backups" {
  description = "Validated backup bucket options."
  value       = var.backups
}
