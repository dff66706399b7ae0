variable "name" {
  description = "Name of the ECR repository, e.g. detection-api-production."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._/-]{1,255}$", var.name))
    error_message = "name must be a valid ECR repository name (lowercase)."
  }
}

variable "untagged_image_retention_days" {
  description = "Days after which untagged images are expired."
  type        = number
  default     = 7

  validation {
    condition     = var.untagged_image_retention_days >= 1 && var.untagged_image_retention_days <= 90
    error_message = "untagged_image_retention_days must be between 1 and 90."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
