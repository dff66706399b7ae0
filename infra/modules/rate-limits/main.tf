locals {
  port = 6379
}

module "storage_key" {
  source = "../encryption"

  alias       = "${var.name}/rate-limits"
  description = "ElastiCache Valkey (rate-limit counters) of ${var.name}"
  tags        = var.tags
}

# Per-caller rate-limit counters shared by every replica (DETECTION_API_RATE_LIMIT_STORAGE). The
# counters live for a rate-limit window: nothing here is worth a snapshot, and a lost node costs a
# few minutes of per-replica limits (the service counts in memory meanwhile), never a detection.
module "valkey" {
  source  = "terraform-aws-modules/elasticache/aws"
  version = "1.6.1"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  replication_group_id = "${var.name}-rate-limits"
  description          = "Rate-limit counters of ${var.name}"

  engine         = "valkey"
  engine_version = var.engine_version
  node_type      = var.node_type
  port           = local.port

  num_cache_clusters         = var.nodes
  automatic_failover_enabled = var.nodes > 1
  multi_az_enabled           = var.nodes > 1

  # TLS in transit (the service connects with rediss://), storage encrypted with the customer key.
  # No AUTH token: only the nodes' security group and the pods' NetworkPolicy reach it.
  transit_encryption_enabled = true
  at_rest_encryption_enabled = true
  kms_key_arn                = module.storage_key.key_arn

  snapshot_retention_limit = 0
  maintenance_window       = "sun:05:00-sun:06:00"
  apply_immediately        = false

  vpc_id                     = var.vpc_id
  security_group_name        = "${var.name}-rate-limits-"
  security_group_description = "Valkey (rate limits) of ${var.name}: reachable from the EKS nodes only"
  security_group_rules = {
    ingress_from_nodes = {
      description                  = "Valkey from the cluster nodes"
      referenced_security_group_id = var.client_security_group_id
    }
  }

  subnet_group_name        = "${var.name}-rate-limits"
  subnet_group_description = "Database subnets of ${var.name}"
  subnet_ids               = var.subnet_ids

  create_parameter_group      = true
  parameter_group_name        = "${var.name}-rate-limits"
  parameter_group_family      = "valkey8"
  parameter_group_description = "Rate-limit counters of ${var.name}"
  parameters = [
    # Every counter carries its window as a TTL: under memory pressure the nearest to expiry goes.
    { name = "maxmemory-policy", value = "volatile-ttl" },
  ]

  tags = var.tags
}
