variable "alias" {
  description = "Alias of the key without the `alias/` prefix, e.g. detection-api-production/rds."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{3,250}$", var.alias)) && !startswith(var.alias, "aws/")
    error_message = "alias must be 3-250 characters of letters, digits, /, _ or - and must not start with aws/."
  }
}

variable "description" {
  description = "What the key protects."
  type        = string
}

variable "cloudwatch_logs" {
  description = "Let CloudWatch Logs of this region encrypt log groups of this account with the key."
  type        = bool
  default     = false
}

variable "service_principals" {
  description = "Other AWS service principals that publish encrypted data with the key, e.g. cloudwatch.amazonaws.com for alarms to an encrypted SNS topic."
  type        = list(string)
  default     = []
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
