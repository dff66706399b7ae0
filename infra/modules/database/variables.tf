variable "name" {
  description = "Identifier prefix, e.g. detection-api-production."
  type        = string
}

variable "instance_class" {
  description = "RDS instance class, valid for PostgreSQL 16 (checked by the settings module)."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.r7g.large."
  }
}

variable "engine_version" {
  description = "PostgreSQL 16 minor version."
  type        = string
  default     = "16.9"

  validation {
    condition     = can(regex("^16\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a PostgreSQL 16 minor version, e.g. 16.9."
  }
}

variable "allocated_storage_gib" {
  description = "Initial gp3 storage in GiB."
  type        = number
}

variable "max_allocated_storage_gib" {
  description = "Storage autoscaling ceiling in GiB."
  type        = number
}

variable "multi_az" {
  description = "Synchronous standby in a second AZ."
  type        = bool
}

variable "read_replicas" {
  description = "Number of read replicas for query offloading."
  type        = number

  validation {
    condition     = var.read_replicas >= 0 && var.read_replicas <= 3
    error_message = "read_replicas must be between 0 and 3."
  }
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (production)."
  type        = bool
}

variable "parameters" {
  description = "Workload parameters; memory settings carry their PostgreSQL unit in the name (8 kB pages or kB)."
  type = object({
    max_connections          = number
    shared_buffers_8kb       = number
    effective_cache_size_8kb = number
    work_mem_kb              = number
    maintenance_work_mem_kb  = number
    autovacuum_max_workers   = number
  })
}

variable "vpc_id" {
  description = "VPC of the database security group."
  type        = string
}

variable "db_subnet_group_name" {
  description = "Subnet group over the database subnets."
  type        = string
}

variable "client_security_group_ids" {
  description = "Security groups allowed to connect on 5432 (the EKS nodes)."
  type        = list(string)
}

variable "iam_database_user" {
  description = "Database user the application authenticates as with an IAM token."
  type        = string
  default     = "detection_api"
}

variable "log_retention_days" {
  description = "Retention of the exported PostgreSQL logs."
  type        = number
  default     = 365
}

variable "alarm_thresholds" {
  description = "CloudWatch alarm thresholds: CPU percent, free storage percent of allocated, replica lag seconds."
  type = object({
    cpu_percent          = number
    free_storage_percent = number
    replica_lag_seconds  = number
  })
  default = {
    cpu_percent          = 80
    free_storage_percent = 10
    replica_lag_seconds  = 300
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
