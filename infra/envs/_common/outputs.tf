output "cluster_name" {
  description = "EKS cluster (aws eks update-kubeconfig --name)."
  value       = module.cluster.cluster_name
}

output "app_irsa_role_arn" {
  description = "eks.amazonaws.com/role-arn of the detection-api ServiceAccount."
  value       = module.cluster.app_irsa_role_arn
}

output "backup_irsa_role_arn" {
  description = "eks.amazonaws.com/role-arn of the detection-api-backup ServiceAccount (chart backup.serviceAccount.roleArn)."
  value       = module.cluster.backup_irsa_role_arn
}

output "db_endpoint" {
  description = "PostgreSQL primary host:port."
  value       = module.database.endpoint
}

output "db_replica_endpoints" {
  description = "PostgreSQL read replicas host:port."
  value       = module.database.replica_endpoints
}

output "db_iam_user" {
  description = "Database user of the application (IAM authentication)."
  value       = module.database.iam_database_user
}

output "rate_limit_storage_url" {
  description = "rediss:// URL of the shared rate-limit store (chart config.rateLimitStorage)."
  value       = module.rate_limits.rate_limit_storage_url
}

output "backup_bucket" {
  description = "S3 bucket of the backups (prefixes postgres/ and sqlite/)."
  value       = module.backups.bucket_name
}

output "backup_kms_key_arn" {
  description = "KMS key of the backups bucket."
  value       = module.backups.kms_key_arn
}

output "ecr_repository_url" {
  description = "Image repository of the service."
  value       = module.registry.repository_url
}

output "alarm_topic_arn" {
  description = "SNS topic of the database alarms."
  value       = module.database.alarm_topic_arn
}
