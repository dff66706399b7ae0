variable "name" {
  description = "Name prefix, e.g. detection-api-production; the bucket is <name>-backups-<account id>."
  type        = string
}

variable "prefixes" {
  description = "Lifecycle per backup prefix: days before STANDARD_IA and GLACIER_IR, and days before expiry."
  type = map(object({
    infrequent_access_after_days = number
    glacier_after_days           = number
    expire_after_days            = number
  }))
  default = {
    "postgres/" = { infrequent_access_after_days = 30, glacier_after_days = 90, expire_after_days = 365 }
    "sqlite/"   = { infrequent_access_after_days = 30, glacier_after_days = 60, expire_after_days = 180 }
  }

  validation {
    condition = alltrue([
      for prefix, rule in var.prefixes :
      endswith(prefix, "/") && rule.infrequent_access_after_days >= 30 && rule.glacier_after_days > rule.infrequent_access_after_days && rule.expire_after_days > rule.glacier_after_days
    ])
    error_message = "prefixes must end with / and satisfy 30 <= infrequent_access_after_days < glacier_after_days < expire_after_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted backup version is kept."
  type        = number
  default     = 30
}

variable "cross_region_replication" {
  description = "Replicate every backup to a bucket in the aws.replica provider's region."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
