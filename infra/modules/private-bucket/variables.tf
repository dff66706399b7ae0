variable "name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be a valid S3 bucket name."
  }
}

variable "kms_key_arn" {
  description = "Customer KMS key for SSE-KMS of every object."
  type        = string
}

variable "lifecycle_rules" {
  description = "Lifecycle rules in the terraform-aws-modules/s3-bucket `lifecycle_rule` format."
  type        = any
  default     = []
}

variable "replication_configuration" {
  description = "Replication configuration in the terraform-aws-modules/s3-bucket format; {} for none."
  type        = any
  default     = {}
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
