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

  tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
    Repository  = var.github_repository
  }
}
