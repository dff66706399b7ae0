output "primary_endpoint_address" {
  description = "Address of the primary node (it follows a failover)."
  value       = module.valkey.replication_group_primary_endpoint_address
}

output "port" {
  description = "Valkey port."
  value       = local.port
}

output "rate_limit_storage_url" {
  description = "The service's DETECTION_API_RATE_LIMIT_STORAGE (TLS, database 0); the chart's config.rateLimitStorage."
  value       = "rediss://${module.valkey.replication_group_primary_endpoint_address}:${local.port}/0"
}

output "security_group_id" {
  description = "Security group of the Valkey nodes."
  value       = module.valkey.security_group_id
}

output "kms_key_arn" {
  description = "Customer key encrypting the Valkey storage."
  value       = module.storage_key.key_arn
}
