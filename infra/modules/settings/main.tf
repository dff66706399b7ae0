locals {
  catalog = jsondecode(file("${path.module}/catalog.json"))

  name          = "${var.project}-${var.environment}"
  is_production = var.environment == "production"

  # Worst case a PostgreSQL instance can ask for with these parameters. Units: shared_buffers and
  # effective_cache_size count 8 kB pages, work_mem and maintenance_work_mem count kB, wal_buffers
  # defaults to 1/32 of shared_buffers capped at 16 MiB.
  db_memory = {
    instance_bytes   = local.catalog.rds_postgres16[var.database.instance_class].memory_gib * 1073741824
    shared_bytes     = var.database.parameters.shared_buffers_8kb * 8192
    wal_buffer_bytes = min(var.database.parameters.shared_buffers_8kb * 8192 / 32, 16777216)
    worst_case_bytes = (
      var.database.parameters.shared_buffers_8kb * 8192
      + min(var.database.parameters.shared_buffers_8kb * 8192 / 32, 16777216)
      + var.database.parameters.max_connections * var.database.parameters.work_mem_kb * 1024
      + var.database.parameters.autovacuum_max_workers * var.database.parameters.maintenance_work_mem_kb * 1024
    )
  }

  # The /16 layout, one subnet per tier and zone: public /24s at .0-2, private /20s at .16-63
  # (nodes and pods), database /24s at .64-66 (RDS and the rate-limit Redis), endpoints /24s at
  # .80-82 (the VPC interface endpoints: the only AWS API addresses the pods may reach). The
  # network module builds it and the chart's NetworkPolicies allow exactly these ranges.
  zone_indexes = range(length(var.network.availability_zones))
  subnets = {
    public    = [for index in local.zone_indexes : cidrsubnet(var.network.vpc_cidr, 8, index)]
    private   = [for index in local.zone_indexes : cidrsubnet(var.network.vpc_cidr, 4, index + 1)]
    database  = [for index in local.zone_indexes : cidrsubnet(var.network.vpc_cidr, 8, 64 + index)]
    endpoints = [for index in local.zone_indexes : cidrsubnet(var.network.vpc_cidr, 8, 80 + index)]
  }

  tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = var.github_repository
  }
}
