output "bucket_name" {
  description = "State bucket (backend `bucket`)."
  value       = module.bucket.id
}

output "bucket_arn" {
  description = "ARN of the state bucket."
  value       = module.bucket.arn
}

output "lock_table_name" {
  description = "Lock table (backend `dynamodb_table`)."
  value       = aws_dynamodb_table.locks.name
}

output "lock_table_arn" {
  description = "ARN of the lock table."
  value       = aws_dynamodb_table.locks.arn
}

output "kms_key_arn" {
  description = "KMS key of the state (backend `kms_key_id`)."
  value       = module.key.key_arn
}
