variable "project" {
  description = "Project name; roles are <project>-<purpose>-<environment>."
  type        = string
  default     = "detection-api"
}

variable "repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the roles."
  type        = string
  default     = "detection-api/detection-api"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.repository))
    error_message = "repository must be owner/name."
  }
}

variable "environments" {
  description = "GitHub environments that get an infra apply role and an app deploy role each."
  type        = list(string)
  default     = ["dev", "staging", "production"]

  validation {
    condition     = alltrue([for environment in var.environments : contains(["dev", "staging", "production"], environment)])
    error_message = "environments may only contain dev, staging and production."
  }
}

variable "create_provider" {
  description = "Create the account's GitHub OIDC provider (once per AWS account)."
  type        = bool
  default     = true
}

variable "state_bucket_arn" {
  description = "Terraform state bucket (the plan role reads it)."
  type        = string
}

variable "state_kms_key_arn" {
  description = "KMS key of the state bucket."
  type        = string
}

variable "lock_table_arn" {
  description = "DynamoDB lock table (the plan role takes and releases locks)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
