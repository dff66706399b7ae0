data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  arn     = "arn:${data.aws_partition.current.partition}"

  # Token subjects: a job bound to a GitHub environment is `repo:<repo>:environment:<env>`;
  # plans run on pull requests and on main without an environment.
  plan_subjects = [
    "repo:${var.repository}:pull_request",
    "repo:${var.repository}:ref:refs/heads/main",
  ]
  environment_subject = { for environment in var.environments : environment => "repo:${var.repository}:environment:${environment}" }
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
  tags           = var.tags
}

# Plan: read-only view of the account plus the state and its lock.
module "plan_role" {
  source  = "terraform-aws-modules/iam/aws//modules/iam-role"
  version = "6.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name               = "${var.project}-terraform-plan"
  use_name_prefix    = false
  enable_github_oidc = true
  oidc_subjects      = local.plan_subjects

  policies = {
    ReadOnlyAccess = "${local.arn}:iam::aws:policy/ReadOnlyAccess"
    State          = aws_iam_policy.state_access.arn
  }

  tags = var.tags
}

data "aws_iam_policy_document" "state_access" {
  statement {
    sid       = "ReadState"
    actions   = ["s3:GetObject", "s3:ListBucket"]
    resources = [var.state_bucket_arn, "${var.state_bucket_arn}/*"]
  }

  statement {
    sid       = "Lock"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable"]
    resources = [var.lock_table_arn]
  }

  statement {
    sid       = "DecryptState"
    actions   = ["kms:Decrypt", "kms:DescribeKey"]
    resources = [var.state_kms_key_arn]
  }
}

resource "aws_iam_policy" "state_access" {
  name_prefix = "${var.project}-terraform-state-read-"
  description = "Read the Terraform state and hold its lock"
  policy      = data.aws_iam_policy_document.state_access.json
  tags        = var.tags
}

# Apply: one role per environment, assumable only by jobs running in that GitHub environment
# (production's environment requires reviewers). Terraform creates IAM roles, KMS keys and the
# cluster, so the role administers the account; the environment gate is its boundary.
module "apply_role" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role"
  version  = "6.0.0"
  for_each = local.environment_subject
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name               = "${var.project}-terraform-apply-${each.key}"
  use_name_prefix    = false
  enable_github_oidc = true
  oidc_subjects      = [each.value]

  policies = {
    AdministratorAccess = "${local.arn}:iam::aws:policy/AdministratorAccess"
  }

  tags = var.tags
}

# App deploy: push the image and reach the environment's cluster, nothing else.
data "aws_iam_policy_document" "deploy" {
  for_each = local.environment_subject

  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "PushImage"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = ["${local.arn}:ecr:${data.aws_region.current.region}:${local.account}:repository/${var.project}-${each.key}"]
  }

  statement {
    sid       = "DescribeCluster"
    actions   = ["eks:DescribeCluster"]
    resources = ["${local.arn}:eks:${data.aws_region.current.region}:${local.account}:cluster/${var.project}-${each.key}"]
  }
}

resource "aws_iam_policy" "deploy" {
  for_each = local.environment_subject

  name_prefix = "${var.project}-deploy-${each.key}-"
  description = "Push images and deploy to ${var.project}-${each.key}"
  policy      = data.aws_iam_policy_document.deploy[each.key].json
  tags        = var.tags
}

module "deploy_role" {
  source   = "terraform-aws-modules/iam/aws//modules/iam-role"
  version  = "6.0.0"
  for_each = local.environment_subject
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  name               = "${var.project}-deploy-${each.key}"
  use_name_prefix    = false
  enable_github_oidc = true
  oidc_subjects      = [each.value]

  policies = {
    Deploy = aws_iam_policy.deploy[each.key].arn
  }

  tags = var.tags
}
