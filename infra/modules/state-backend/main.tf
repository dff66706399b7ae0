module "key" {
  source = "../encryption"

  alias       = var.key_alias
  description = "Terraform state and locks"
  tags        = var.tags
}

module "bucket" {
  source = "../private-bucket"

  name        = var.bucket_name
  kms_key_arn = module.key.key_arn

  lifecycle_rules = [{
    id                                     = "old-state-versions"
    enabled                                = true
    filter                                 = { prefix = "" }
    noncurrent_version_expiration          = { days = 90 }
    abort_incomplete_multipart_upload_days = 7
  }]

  tags = var.tags
}

resource "aws_dynamodb_table" "locks" {
  name                        = var.lock_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "LockID"
  deletion_protection_enabled = true

  attribute {
    name = "LockID"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = module.key.key_arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = var.tags
}
