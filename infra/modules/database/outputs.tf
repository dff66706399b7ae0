output "endpoint" {
  description = "host:port of the primary (read/write)."
  value       = module.primary.db_instance_endpoint
}

output "address" {
  description = "Host name of the primary."
  value       = module.primary.db_instance_address
}

output "port" {
  description = "PostgreSQL port."
  value       = local.port
}

output "replica_endpoints" {
  description = "host:port of each read replica."
  value       = [for replica in module.replica : replica.db_instance_endpoint]
}

output "iam_database_user" {
  description = "Database user for IAM authentication."
  value       = var.iam_database_user
}

output "connect_policy_arn" {
  description = "IAM policy granting rds-db:connect as the application user (attach to the IRSA role)."
  value       = aws_iam_policy.connect.arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.db.id
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the CPU, storage and replica lag alarms."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "KMS key of the database storage."
  value       = module.storage_key.key_arn
}
