variable "name" {
  description = "Name prefix of every network resource, e.g. detection-api-production."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC (a /16); subnets are carved from it per tier and AZ."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be a valid /16 CIDR block."
  }
}

variable "availability_zones" {
  description = "Availability zones to span, by name (one public, private and database subnet each). Listed, not discovered, so a new AZ never reshapes the network."
  type        = list(string)

  validation {
    condition     = length(distinct(var.availability_zones)) >= 2 && length(distinct(var.availability_zones)) <= 3
    error_message = "availability_zones must list 2 or 3 distinct zones."
  }
}

variable "subnets" {
  description = "Subnet CIDRs per tier, one per availability zone in its order: public (load balancers, NAT), private (nodes and pods), database (RDS, Redis), endpoints (VPC interface endpoints). The settings module computes them."
  type = object({
    public    = list(string)
    private   = list(string)
    database  = list(string)
    endpoints = list(string)
  })

  validation {
    condition = alltrue([
      for tier in [var.subnets.public, var.subnets.private, var.subnets.database, var.subnets.endpoints] :
      length(tier) == length(var.availability_zones) && alltrue([for cidr in tier : can(cidrhost(cidr, 0))])
    ])
    error_message = "subnets must give one valid CIDR per availability zone for every tier."
  }
}

variable "single_nat_gateway" {
  description = "Share one NAT gateway across all AZs (cheaper, not highly available). False creates one NAT gateway per AZ."
  type        = bool
}

variable "flow_log_retention_days" {
  description = "Retention of the VPC flow log group in CloudWatch Logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.flow_log_retention_days)
    error_message = "flow_log_retention_days must be a CloudWatch Logs retention value of at least 30 days."
  }
}

variable "cluster_name" {
  description = "EKS cluster name, used to tag subnets for load balancer discovery."
  type        = string
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
