output "id" {
  description = "Name of the bucket."
  value       = module.bucket.s3_bucket_id
}

output "arn" {
  description = "ARN of the bucket."
  value       = module.bucket.s3_bucket_arn
}
