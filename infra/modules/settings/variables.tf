variable "environment" {
  description = "Deployment environment: dev, staging or production."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "production"], var.environment)
    error_message = "environment must be one of dev, staging, production."
  }
}

variable "project" {
  description = "Project name, the prefix of every resource name."
  type        = string
  default     = "detection-api"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,20}$", var.project))
    error_message = "project must be 3-21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "aws_region" {
  description = "AWS region of the environment, e.g. us-east-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1."
  }
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may assume the deployment roles."
  type        = string
  default     = "detection-api/detection-api"

  validation {
    condition     = can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "network" {
  description = "Network sizing: VPC CIDR (a /16), the three availability zones and whether one NAT gateway is shared by all AZs."
  type = object({
    vpc_cidr           = string
    availability_zones = list(string)
    single_nat_gateway = bool
  })

  validation {
    condition     = length(distinct(var.network.availability_zones)) == 3 && alltrue([for zone in var.network.availability_zones : startswith(zone, var.aws_region)])
    error_message = "network.availability_zones must name three distinct zones of aws_region."
  }

  validation {
    condition     = can(cidrhost(var.network.vpc_cidr, 0)) && endswith(var.network.vpc_cidr, "/16")
    error_message = "network.vpc_cidr must be a valid /16 CIDR block."
  }

  validation {
    condition     = var.environment != "production" || !var.network.single_nat_gateway
    error_message = "network.single_nat_gateway must be false in production: one NAT gateway per AZ."
  }
}

variable "cluster" {
  description = "EKS sizing: Kubernetes version, API endpoint exposure and the two managed node groups."
  type = object({
    kubernetes_version     = string
    endpoint_public_access = bool
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
    condition     = can(regex("^1\\.(3[0-9])$", var.cluster.kubernetes_version))
    error_message = "cluster.kubernetes_version must be an EKS minor version 1.30-1.39, e.g. 1.33."
  }

  validation {
    condition     = var.environment != "production" || !var.cluster.endpoint_public_access
    error_message = "cluster.endpoint_public_access must be false in production: private API endpoint only."
  }

  validation {
    condition = alltrue([
      for group in [var.cluster.application, var.cluster.monitoring] :
      group.min_size >= 1 && group.min_size <= group.desired_size && group.desired_size <= group.max_size
    ])
    error_message = "cluster node groups need 1 <= min_size <= desired_size <= max_size."
  }

  validation {
    condition     = var.environment != "production" || (var.cluster.application.min_size == 3 && var.cluster.application.max_size == 10)
    error_message = "cluster.application must scale between 3 and 10 nodes in production."
  }

  validation {
    condition = alltrue([
      for type in concat(var.cluster.application.instance_types, var.cluster.monitoring.instance_types) :
      contains(keys(local.catalog.ec2), type)
    ])
    error_message = "cluster node instance types must be listed in the settings module's catalog.json."
  }
}

variable "database" {
  description = "RDS PostgreSQL 16 sizing and its memory parameters, each named after its unit."
  type = object({
    instance_class            = string
    allocated_storage_gib     = number
    max_allocated_storage_gib = number
    multi_az                  = bool
    read_replicas             = number
    deletion_protection       = bool
    parameters = object({
      max_connections          = number
      shared_buffers_8kb       = number
      effective_cache_size_8kb = number
      work_mem_kb              = number
      maintenance_work_mem_kb  = number
      autovacuum_max_workers   = number
    })
  })

  validation {
    condition     = contains(keys(local.catalog.rds_postgres16), var.database.instance_class)
    error_message = "database.instance_class must be an RDS PostgreSQL 16 class listed in catalog.json."
  }

  validation {
    condition     = var.database.allocated_storage_gib >= 20 && var.database.max_allocated_storage_gib >= var.database.allocated_storage_gib
    error_message = "database storage must be >= 20 GiB and max_allocated_storage_gib >= allocated_storage_gib."
  }

  validation {
    condition     = var.environment != "production" || (var.database.multi_az && var.database.read_replicas >= 1 && var.database.deletion_protection)
    error_message = "production database needs multi_az, at least one read replica and deletion protection."
  }

  validation {
    condition     = var.database.parameters.max_connections == 200
    error_message = "database.parameters.max_connections must be 200 (the connection pool budget)."
  }

  validation {
    condition     = var.database.parameters.effective_cache_size_8kb * 8192 <= try(local.catalog.rds_postgres16[var.database.instance_class].memory_gib, 0) * 1073741824
    error_message = "database.parameters.effective_cache_size_8kb is larger than the instance memory."
  }
}

variable "rate_limits" {
  description = "The shared rate-limit store (ElastiCache Valkey): node type and node count (1-3)."
  type = object({
    node_type = string
    nodes     = number
  })

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.rate_limits.node_type)) && contains([1, 2, 3], var.rate_limits.nodes)
    error_message = "rate_limits.node_type must look like cache.t4g.small and rate_limits.nodes be 1, 2 or 3."
  }

  validation {
    condition     = var.environment != "production" || var.rate_limits.nodes >= 2
    error_message = "rate_limits.nodes must be at least 2 in production: a replica in another zone takes over."
  }
}

variable "backups" {
  description = "Backup bucket options: cross-region replication switch and the replica region."
  type = object({
    cross_region_replication = bool
    replica_region           = string
  })

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.backups.replica_region)) && var.backups.replica_region != var.aws_region
    error_message = "backups.replica_region must be a region other than aws_region."
  }
}
