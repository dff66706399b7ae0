# Cross-region copy of the backups, behind `cross_region_replication`.

module "replica_key" {
  source = "../encryption"
  count  = var.cross_region_replication ? 1 : 0
  providers = {
    aws = aws.replica
  }

  alias       = "${var.name}/backups-replica"
  description = "Cross-region replica of the backups of ${var.name}"
  tags        = var.tags
}

module "replica_bucket" {
  source = "../private-bucket"
  count  = var.cross_region_replication ? 1 : 0
  providers = {
    aws = aws.replica
  }

  name            = "${local.bucket_name}-replica"
  kms_key_arn     = module.replica_key[0].key_arn
  lifecycle_rules = local.lifecycle_rules
  tags            = var.tags
}

data "aws_iam_policy_document" "replication_trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "replication" {
  count = var.cross_region_replication ? 1 : 0

  name_prefix        = "${var.name}-s3-repl-"
  assume_role_policy = data.aws_iam_policy_document.replication_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "replication" {
  count = var.cross_region_replication ? 1 : 0

  statement {
    sid       = "ReadSourceConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = [module.bucket.arn]
  }

  statement {
    sid       = "ReadSourceObjects"
    actions   = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
    resources = ["${module.bucket.arn}/*"]
  }

  statement {
    sid       = "WriteReplicaObjects"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = ["${module.replica_bucket[0].arn}/*"]
  }

  statement {
    sid       = "DecryptSource"
    actions   = ["kms:Decrypt"]
    resources = [module.key.key_arn]
  }

  statement {
    sid       = "EncryptReplica"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [module.replica_key[0].key_arn]
  }
}

resource "aws_iam_role_policy" "replication" {
  count = var.cross_region_replication ? 1 : 0

  name   = "replicate-backups"
  role   = aws_iam_role.replication[0].id
  policy = data.aws_iam_policy_document.replication[0].json
}
