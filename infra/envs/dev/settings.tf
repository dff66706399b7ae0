# Dev: smallest useful size; single-AZ database, one shared NAT gateway, no replication.
module "settings" {
  source = "../../modules/settings"

  environment = "dev"
  aws_region  = "us-east-1"

  network = {
    vpc_cidr           = "10.10.0.0/16"
    availability_zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
    single_nat_gateway = true
  }

  cluster = {
    kubernetes_version     = "1.33"
    endpoint_public_access = false
    application            = { instance_types = ["t3.large"], min_size = 1, max_size = 3, desired_size = 1 }
    monitoring             = { instance_types = ["t3.large"], min_size = 1, max_size = 1, desired_size = 1 }
  }

  database = {
    instance_class            = "db.t4g.medium"
    allocated_storage_gib     = 20
    max_allocated_storage_gib = 100
    multi_az                  = false
    read_replicas             = 0
    deletion_protection       = false
    parameters = {
      max_connections          = 200
      shared_buffers_8kb       = 131072 # 1 GiB: 25% of 4 GiB
      effective_cache_size_8kb = 393216 # 3 GiB: 75% of 4 GiB
      work_mem_kb              = 4096   # 4 MiB
      maintenance_work_mem_kb  = 131072 # 128 MiB
      autovacuum_max_workers   = 3
    }
  }

  rate_limits = {
    node_type = "cache.t4g.micro"
    nodes     = 1 # one node: dev tolerates a lost store
  }

  backups = {
    cross_region_replication = false
    replica_region           = "us-west-2"
  }
}
