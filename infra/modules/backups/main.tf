data "aws_caller_identity" "current" {}

locals {
  bucket_name = "${var.name}-backups-${data.aws_caller_identity.current.account_id}"

  lifecycle_rules = [
    for prefix, rule in var.prefixes : {
      id      = trimsuffix(prefix, "/")
      enabled = true
      filter  = { prefix = prefix }
      transition = [
        { days = rule.infrequent_access_after_days, storage_class = "STANDARD_IA" },
        { days = rule.glacier_after_days, storage_class = "GLACIER_IR" },
      ]
      expiration                             = { days = rule.expire_after_days }
      noncurrent_version_expiration          = { days = var.noncurrent_version_expiration_days }
      abort_incomplete_multipart_upload_days = 7
    }
  ]
}

module "key" {
  source = "../encryption"

  alias       = "${var.name}/backups"
  description = "Database and queue backups of ${var.name}"
  tags        = var.tags
}

module "bucket" {
  source = "../private-bucket"

  name            = local.bucket_name
  kms_key_arn     = module.key.key_arn
  lifecycle_rules = local.lifecycle_rules

  replication_configuration = var.cross_region_replication ? {
    role = aws_iam_role.replication[0].arn
    rules = [{
      id                        = "everything"
      status                    = "Enabled"
      delete_marker_replication = true
      filter                    = { prefix = "" }
      source_selection_criteria = {
        sse_kms_encrypted_objects = { enabled = true }
      }
      destination = {
        bucket             = module.replica_bucket[0].arn
        storage_class      = "STANDARD_IA"
        replica_kms_key_id = module.replica_key[0].key_arn
      }
    }]
  } : {}

  tags = var.tags
}

# A reusable grant for whoever writes and reads backups (the application's IRSA role, the ops jobs).
data "aws_iam_policy_document" "writer" {
  statement {
    sid       = "ListBackupPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [module.bucket.arn]

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = [for prefix in keys(var.prefixes) : "${prefix}*"]
    }
  }

  statement {
    sid       = "ReadWriteBackups"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:GetObjectVersion"]
    resources = [for prefix in keys(var.prefixes) : "${module.bucket.arn}/${prefix}*"]
  }

  statement {
    sid       = "UseBackupKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [module.key.key_arn]
  }
}

resource "aws_iam_policy" "writer" {
  name_prefix = "${var.name}-backups-"
  description = "Read and write backups under ${join(", ", keys(var.prefixes))} in ${local.bucket_name}"
  policy      = data.aws_iam_policy_document.writer.json
  tags        = var.tags
}
