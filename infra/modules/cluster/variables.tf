variable "name" {
  description = "Cluster name, e.g. detection-api-production."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes minor version, e.g. 1.33."
  type        = string

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "vpc_id" {
  description = "VPC of the cluster."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the nodes and the control plane ENIs."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs at least two subnets in different AZs."
  }
}

variable "endpoint_public_access" {
  description = "Expose the Kubernetes API publicly (never in production; the private endpoint is always on)."
  type        = bool
}

variable "endpoint_public_access_cidrs" {
  description = "CIDR blocks allowed to reach the public API endpoint when it is enabled."
  type        = list(string)
  default     = []

  validation {
    condition     = !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "endpoint_public_access_cidrs must not contain 0.0.0.0/0."
  }
}

variable "log_retention_days" {
  description = "Retention of the control plane log group."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 30
    error_message = "log_retention_days must be at least 30."
  }
}

variable "node_groups" {
  description = "Sizing of the `application` and `monitoring` managed node groups."
  type = object({
    application = object({
      instance_types = list(string)
      min_size       = number
      max_size       = number
      desired_size   = number
    })
    monitoring = object({
      instance_types = list(string)
      min_size       = number
      max_size       = number
      desired_size   = number
    })
  })

  validation {
    condition = alltrue([
      for group in [var.node_groups.application, var.node_groups.monitoring] :
      group.min_size >= 1 && group.min_size <= group.desired_size && group.desired_size <= group.max_size
    ])
    error_message = "node groups need 1 <= min_size <= desired_size <= max_size."
  }
}

variable "read_only_role_arns" {
  description = "IAM roles (the CI plan role) that may read the whole cluster, secrets included: `terraform plan` refreshes the Helm release, which Helm keeps in a secret."
  type        = list(string)
  default     = []
}

variable "app_service_account" {
  description = "Namespace and ServiceAccount of the Detection API pods that receive the IRSA role."
  type = object({
    namespace = string
    name      = string
  })
  default = {
    namespace = "detection-api"
    name      = "detection-api"
  }
}

variable "app_policy_arns" {
  description = "IAM policies attached to the application's IRSA role (RDS IAM connect...); never the backups writer, which belongs to backup_policy_arns."
  type        = map(string)
  default     = {}

  validation {
    condition     = !contains(keys(var.app_policy_arns), "backups")
    error_message = "app_policy_arns must not carry the backups writer: the service does not write backups (use backup_policy_arns)."
  }
}

variable "backup_service_account" {
  description = "Namespace and ServiceAccount of the backup CronJob (the chart's <release>-backup) that receive the backup IRSA role."
  type = object({
    namespace = string
    name      = string
  })
  default = {
    namespace = "detection-api"
    name      = "detection-api-backup"
  }

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.backup_service_account.name))
    error_message = "backup_service_account.name must be a Kubernetes name."
  }
}

variable "backup_policy_arns" {
  description = "IAM policies attached to the backup CronJob's IRSA role: the backups bucket writer and RDS IAM connect (pg_dump)."
  type        = map(string)
  default     = {}
}

variable "cluster_autoscaler_chart_version" {
  description = "Version of the cluster-autoscaler Helm chart (kubernetes.github.io/autoscaler)."
  type        = string
  default     = "9.43.2"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.cluster_autoscaler_chart_version))
    error_message = "cluster_autoscaler_chart_version must be an exact version x.y.z."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
