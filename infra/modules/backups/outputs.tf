output "bucket_name" {
  description = "Name of the backups bucket."
  value       = module.bucket.id
}

output "bucket_arn" {
  description = "ARN of the backups bucket."
  value       = module.bucket.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the backups."
  value       = module.key.key_arn
}

output "writer_policy_arn" {
  description = "IAM policy to read and write backups under the configured prefixes."
  value       = aws_iam_policy.writer.arn
}

output "replica_bucket_arn" {
  description = "ARN of the cross-region replica bucket, null when replication is off."
  value       = var.cross_region_replication ? module.replica_bucket[0].arn : null
}
