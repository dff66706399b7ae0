# Production sizing and policy. The settings module validates it (and rejects single-AZ,
# shared NAT, public API, wrong node bounds or memory beyond the instance class).
module "settings" {
  source = "../../modules/settings"

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
    monitoring             = { instance_types = ["m7i.xlarge"], min_size = 2, max_size = 3, desired_size = 2 }
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
      shared_buffers_8kb       = 524288  # 4 GiB: 25% of 16 GiB
      effective_cache_size_8kb = 1572864 # 12 GiB: 75% of 16 GiB
      work_mem_kb              = 16384   # 16 MiB per sort/hash
      maintenance_work_mem_kb  = 524288  # 512 MiB per autovacuum worker
      autovacuum_max_workers   = 3
    }
  }

  rate_limits = {
    node_type = "cache.m7g.large"
    nodes     = 2 # a replica in another zone takes over
  }

  backups = {
    cross_region_replication = true
    replica_region           = "us-west-2"
  }
}
