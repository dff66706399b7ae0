variable "name" {
  description = "Identifier prefix, e.g. detection-api-production."
  type        = string
}

variable "node_type" {
  description = "ElastiCache node type of each Valkey node, e.g. cache.t4g.small."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.t4g.small."
  }
}

variable "nodes" {
  description = "Valkey nodes: 1 (a primary) or 2-3 (a primary and replicas in other zones, with automatic failover)."
  type        = number

  validation {
    condition     = contains([1, 2, 3], var.nodes)
    error_message = "nodes must be 1, 2 or 3."
  }
}

variable "engine_version" {
  description = "Valkey major.minor version."
  type        = string
  default     = "8.0"

  validation {
    condition     = can(regex("^8\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Valkey 8 version, e.g. 8.0 (the parameter group family is valkey8)."
  }
}

variable "vpc_id" {
  description = "VPC of the security group."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the cache subnet group: the database tier (no route to the internet), one per zone."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids must span at least two zones."
  }
}

variable "client_security_group_id" {
  description = "Security group allowed to connect on 6379: the EKS nodes' (the pods use it)."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
