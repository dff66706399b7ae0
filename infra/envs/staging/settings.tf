# Staging: production's shape at a smaller size; single-AZ database, one shared NAT gateway.
module "settings" {
  source = "../../modules/settings"

  environment = "staging"
  aws_region  = "us-east-1"

  network = {
    vpc_cidr           = "10.20.0.0/16"
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    single_nat_gateway = true
  }

  cluster = {
    kubernetes_version     = "1.33"
    endpoint_public_access = false
    application            = { instance_types = ["m7i.large"], min_size = 2, max_size = 4, desired_size = 2 }
    monitoring             = { instance_types = ["m7i.large"], min_size = 1, max_size = 2, desired_size = 1 }
  }

  database = {
    instance_class            = "db.m7g.large"
    allocated_storage_gib     = 50
    max_allocated_storage_gib = 200
    multi_az                  = false
    read_replicas             = 0
    deletion_protection       = false
    parameters = {
      max_connections          = 200
      shared_buffers_8kb       = 262144 # 2 GiB: 25% of 8 GiB
      effective_cache_size_8kb = 786432 # 6 GiB: 75% of 8 GiB
      work_mem_kb              = 8192   # 8 MiB
      maintenance_work_mem_kb  = 262144 # 256 MiB
      autovacuum_max_workers   = 3
    }
  }

  rate_limits = {
    node_type = "cache.t4g.small"
    nodes     = 2 # a replica in another zone, as production
  }

  backups = {
    cross_region_replication = false
    replica_region           = "us-west-2"
  }
}
