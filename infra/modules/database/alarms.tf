resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-database-alarms"
  kms_master_key_id = module.logs_key.key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_metric_alarm" "cpu" {
  alarm_name          = "${var.name}-db-cpu-high"
  alarm_description   = "CPU of ${var.name} above ${var.alarm_thresholds.cpu_percent}% for 15 minutes"
  namespace           = "AWS/RDS"
  metric_name         = "CPUUtilization"
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 3
  threshold           = var.alarm_thresholds.cpu_percent
  comparison_operator = "GreaterThanThreshold"
  dimensions          = { DBInstanceIdentifier = module.primary.db_instance_identifier }
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "free_storage" {
  alarm_name          = "${var.name}-db-free-storage-low"
  alarm_description   = "Free storage of ${var.name} below ${var.alarm_thresholds.free_storage_percent}% of the allocated storage"
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.allocated_storage_gib * 1073741824 * var.alarm_thresholds.free_storage_percent / 100
  comparison_operator = "LessThanThreshold"
  dimensions          = { DBInstanceIdentifier = module.primary.db_instance_identifier }
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "replica_lag" {
  count = var.read_replicas

  alarm_name          = "${var.name}-db-replica-${count.index + 1}-lag-high"
  alarm_description   = "Replica ${count.index + 1} of ${var.name} lags more than ${var.alarm_thresholds.replica_lag_seconds} s"
  namespace           = "AWS/RDS"
  metric_name         = "ReplicaLag"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = var.alarm_thresholds.replica_lag_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "breaching"
  dimensions          = { DBInstanceIdentifier = module.replica[count.index].db_instance_identifier }
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
