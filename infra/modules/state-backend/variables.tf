variable "bucket_name" {
  description = "Globally unique name of the Terraform state bucket."
  type        = string
  default     = "detection-api-terraform-state"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "lock_table_name" {
  description = "Name of the DynamoDB table holding Terraform state locks."
  type        = string
  default     = "detection-api-terraform-locks"
}

variable "key_alias" {
  description = "Alias (without alias/) of the KMS key encrypting the state and the lock table."
  type        = string
  default     = "detection-api-terraform-state"
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
