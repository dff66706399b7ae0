data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  port   = 5432
  family = "postgres16"

  # rds.force_ssl is fixed here, not an input: clients must use TLS in every environment.
  parameters = [
    { name = "rds.force_ssl", value = "1", apply_method = "immediate" },
    { name = "max_connections", value = tostring(var.parameters.max_connections), apply_method = "pending-reboot" },
    { name = "shared_buffers", value = tostring(var.parameters.shared_buffers_8kb), apply_method = "pending-reboot" },
    { name = "effective_cache_size", value = tostring(var.parameters.effective_cache_size_8kb), apply_method = "immediate" },
    { name = "work_mem", value = tostring(var.parameters.work_mem_kb), apply_method = "immediate" },
    { name = "maintenance_work_mem", value = tostring(var.parameters.maintenance_work_mem_kb), apply_method = "immediate" },
    { name = "autovacuum_max_workers", value = tostring(var.parameters.autovacuum_max_workers), apply_method = "pending-reboot" },
    { name = "log_min_duration_statement", value = "1000", apply_method = "immediate" },
    { name = "log_connections", value = "1", apply_method = "immediate" },
  ]
}

module "storage_key" {
  source = "../encryption"

  alias       = "${var.name}/rds"
  description = "RDS storage, snapshots, Performance Insights and master secret of ${var.name}"
  tags        = var.tags
}

module "logs_key" {
  source = "../encryption"

  alias              = "${var.name}/rds-logs"
  description        = "RDS log exports and alarm topic of ${var.name}"
  cloudwatch_logs    = true
  service_principals = ["cloudwatch.amazonaws.com"]
  tags               = var.tags
}

resource "aws_security_group" "db" {
  # checkov:skip=CKV2_AWS_5:Attached to the RDS instances through the rds module's vpc_security_group_ids, which checkov cannot follow.
  name_prefix = "${var.name}-db-"
  description = "PostgreSQL of ${var.name}: reachable from the EKS nodes only"
  vpc_id      = var.vpc_id
  tags        = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each = toset(var.client_security_group_ids)

  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the cluster nodes"
  referenced_security_group_id = each.value
  from_port                    = local.port
  to_port                      = local.port
  ip_protocol                  = "tcp"
}

module "primary" {
  source  = "terraform-aws-modules/rds/aws"
  version = "7.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.

  identifier = var.name

  engine               = "postgres"
  engine_version       = var.engine_version
  family               = local.family
  major_engine_version = "16"
  instance_class       = var.instance_class

  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage_gib
  max_allocated_storage = var.max_allocated_storage_gib
  storage_encrypted     = true
  kms_key_id            = module.storage_key.key_arn

  db_name                       = "detection_api"
  username                      = "detection_admin"
  port                          = local.port
  manage_master_user_password   = true
  master_user_secret_kms_key_id = module.storage_key.key_arn

  iam_database_authentication_enabled = true

  multi_az               = var.multi_az
  db_subnet_group_name   = var.db_subnet_group_name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false

  backup_retention_period          = 30
  backup_window                    = "03:00-04:00"
  maintenance_window               = "Mon:04:30-Mon:05:30"
  copy_tags_to_snapshot            = true
  deletion_protection              = var.deletion_protection
  skip_final_snapshot              = false
  final_snapshot_identifier_prefix = "${var.name}-final"
  auto_minor_version_upgrade       = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.storage_key.key_arn
  performance_insights_retention_period = 7

  monitoring_interval    = 60
  create_monitoring_role = true
  monitoring_role_name   = "${var.name}-rds-monitoring"

  enabled_cloudwatch_logs_exports        = ["postgresql", "upgrade"]
  create_cloudwatch_log_group            = true
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = module.logs_key.key_arn

  create_db_parameter_group = true
  parameter_group_name      = var.name
  parameters                = local.parameters

  tags = var.tags
}

module "replica" {
  source  = "terraform-aws-modules/rds/aws"
  version = "7.0.0"
  # checkov:skip=CKV_TF_1:Registry module pinned to an exact version (not a moving ref); bumps are reviewed.
  count = var.read_replicas

  identifier          = "${var.name}-replica-${count.index + 1}"
  replicate_source_db = module.primary.db_instance_identifier

  engine               = "postgres"
  engine_version       = var.engine_version
  family               = local.family
  major_engine_version = "16"
  instance_class       = var.instance_class

  storage_type          = "gp3"
  max_allocated_storage = var.max_allocated_storage_gib
  storage_encrypted     = true
  kms_key_id            = module.storage_key.key_arn

  port                                = local.port
  manage_master_user_password         = false
  iam_database_authentication_enabled = true

  multi_az               = false
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false

  # Replicas take no automated backups of their own; the primary keeps 30 days.
  backup_retention_period    = 0
  copy_tags_to_snapshot      = true
  deletion_protection        = var.deletion_protection
  skip_final_snapshot        = true
  auto_minor_version_upgrade = true

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = module.storage_key.key_arn
  performance_insights_retention_period = 7

  monitoring_interval    = 60
  create_monitoring_role = false
  monitoring_role_arn    = module.primary.enhanced_monitoring_iam_role_arn

  enabled_cloudwatch_logs_exports        = ["postgresql", "upgrade"]
  create_cloudwatch_log_group            = true
  cloudwatch_log_group_retention_in_days = var.log_retention_days
  cloudwatch_log_group_kms_key_id        = module.logs_key.key_arn

  create_db_parameter_group = false
  parameter_group_name      = module.primary.db_parameter_group_id

  tags = var.tags
}

# The application connects as an IAM-authenticated user: no database password in the cluster.
data "aws_iam_policy_document" "connect" {
  statement {
    sid     = "ConnectAsApplicationUser"
    actions = ["rds-db:connect"]
    resources = concat(
      ["arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:dbuser:${module.primary.db_instance_resource_id}/${var.iam_database_user}"],
      [for replica in module.replica : "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:dbuser:${replica.db_instance_resource_id}/${var.iam_database_user}"],
    )
  }
}

resource "aws_iam_policy" "connect" {
  name_prefix = "${var.name}-rds-connect-"
  description = "rds-db:connect as ${var.iam_database_user} on ${var.name}"
  policy      = data.aws_iam_policy_document.connect.json
  tags        = var.tags
}
