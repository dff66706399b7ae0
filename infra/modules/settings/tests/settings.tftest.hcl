# Offline tests of the naming, sizing and policy rules (no provider involved).

variables {
  environment = "production"
  aws_region  = "us-east-1"
  network = {
    vpc_cidr           = "10.30.0.0/16"
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    single_nat_gateway = false
  }
  cluster = {
    kubernetes_version     = "1.33"
    endpoint_public_access = false
    application            = { instance_types = ["m7i.large"], min_size = 3, max_size = 10, desired_size = 3 }
    monitoring             = { instance_types = ["m7i.large"], min_size = 2, max_size = 3, desired_size = 2 }
  }
  database = {
    instance_class            = "db.r7g.large"
    allocated_storage_gib     = 100
    max_allocated_storage_gib = 500
    multi_az                  = true
    read_replicas             = 1
    deletion_protection       = true
    parameters = {
      max_connections          = 200
      shared_buffers_8kb       = 524288
      effective_cache_size_8kb = 1572864
      work_mem_kb              = 16384
      maintenance_work_mem_kb  = 524288
      autovacuum_max_workers   = 3
    }
  }
  rate_limits = {
    node_type = "cache.m7g.large"
    nodes     = 2
  }
  backups = {
    cross_region_replication = true
    replica_region           = "us-west-2"
  }
}

run "production_names_and_memory" {
  command = plan

  assert {
    condition     = output.name == "detection-api-production"
    error_message = "name prefix must be <project>-<environment>"
  }

  assert {
    condition     = output.database_memory.instance_bytes == 16 * 1073741824
    error_message = "db.r7g.large has 16 GiB"
  }

  assert {
    condition     = output.database_memory.worst_case_bytes == 4294967296 + 16777216 + 200 * 16384 * 1024 + 3 * 524288 * 1024
    error_message = "worst-case memory must follow the parameter units (8 kB pages, kB)"
  }
}

run "subnet_layout" {
  command = plan

  assert {
    condition = output.subnets == {
      public    = ["10.30.0.0/24", "10.30.1.0/24", "10.30.2.0/24"]
      private   = ["10.30.16.0/20", "10.30.32.0/20", "10.30.48.0/20"]
      database  = ["10.30.64.0/24", "10.30.65.0/24", "10.30.66.0/24"]
      endpoints = ["10.30.80.0/24", "10.30.81.0/24", "10.30.82.0/24"]
    }
    error_message = "subnets: public /24s at .0-2, private /20s from .16, database /24s at .64-66, endpoints /24s at .80-82"
  }
}

run "rejects_unknown_environment" {
  command = plan
  variables {
    environment = "prod"
  }
  expect_failures = [var.environment]
}

run "rejects_shared_buffers_in_wrong_units" {
  # 4 GiB written as kB (4194304) is read by PostgreSQL as 8 kB pages: 32 GiB on a 16 GiB instance.
  command = plan
  variables {
    database = merge(var.database, { parameters = merge(var.database.parameters, { shared_buffers_8kb = 4194304 }) })
  }
  expect_failures = [output.database_memory]
}

run "rejects_invalid_instance_class" {
  command = plan
  variables {
    database = merge(var.database, { instance_class = "db.t2.micro" })
  }
  expect_failures = [var.database]
}

run "rejects_single_az_production_database" {
  command = plan
  variables {
    database = merge(var.database, { multi_az = false, read_replicas = 0 })
  }
  expect_failures = [var.database]
}

run "rejects_shared_nat_gateway_in_production" {
  command = plan
  variables {
    network = merge(var.network, { single_nat_gateway = true })
  }
  expect_failures = [var.network]
}

run "rejects_public_endpoint_and_wrong_bounds_in_production" {
  command = plan
  variables {
    cluster = merge(var.cluster, {
      endpoint_public_access = true
      application            = { instance_types = ["m7i.large"], min_size = 2, max_size = 20, desired_size = 2 }
    })
  }
  expect_failures = [var.cluster]
}

run "dev_may_share_a_nat_gateway" {
  command = plan
  variables {
    environment = "dev"
    network     = merge(var.network, { single_nat_gateway = true })
  }

  assert {
    condition     = output.name == "detection-api-dev" && !output.is_production
    error_message = "dev is not production"
  }
}

run "rejects_replica_region_equal_to_primary" {
  command = plan
  variables {
    backups = merge(var.backups, { replica_region = "us-east-1" })
  }
  expect_failures = [var.backups]
}
