# Account bootstrap, applied once with local state by an administrator:
# the remote state backend and the GitHub OIDC roles of the pipelines.

terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "6.20.0"
    }
  }
}

variable "aws_region" {
  description = "Region of the state bucket and lock table."
  type        = string
  default     = "us-east-1"
}

variable "github_repository" {
  description = "GitHub repository (owner/name) trusted by the pipeline roles."
  type        = string
  default     = "detection-api/detection-api"
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project   = "detection-api"
      ManagedBy = "terraform"
    }
  }
}

module "state_backend" {
  source = "../modules/state-backend"
}

module "github_oidc" {
  source = "../modules/github-oidc"

  repository        = var.github_repository
  environments      = ["dev", "staging", "production"]
  state_bucket_arn  = module.state_backend.bucket_arn
  state_kms_key_arn = module.state_backend.kms_key_arn
  lock_table_arn    = module.state_backend.lock_table_arn
}

output "state_bucket" {
  description = "Backend bucket of every environment."
  value       = module.state_backend.bucket_name
}

output "lock_table" {
  description = "Backend lock table of every environment."
  value       = module.state_backend.lock_table_name
}

output "plan_role_arn" {
  description = "Role for terraform plan in CI."
  value       = module.github_oidc.plan_role_arn
}

output "apply_role_arns" {
  description = "Roles for terraform apply per environment."
  value       = module.github_oidc.apply_role_arns
}

output "deploy_role_arns" {
  description = "Roles for the app pipeline per environment."
  value       = module.github_oidc.deploy_role_arns
}
