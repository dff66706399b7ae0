# The one way this repository makes a bucket: private, versioned, SSE-KMS with a customer key,
# TLS 1.2+ only, owner-enforced objects.
module "bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "5.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  bucket = var.name

  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = var.kms_key_arn
      }
      bucket_key_enabled = true
    }
  }

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true

  control_object_ownership = true
  object_ownership         = "BucketOwnerEnforced"

  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  lifecycle_rule            = var.lifecycle_rules
  replication_configuration = var.replication_configuration

  tags = var.tags
}
