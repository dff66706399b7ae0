output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = module.eks.cluster_name
}

output "cluster_arn" {
  description = "ARN of the EKS cluster."
  value       = module.eks.cluster_arn
}

output "cluster_endpoint" {
  description = "Kubernetes API endpoint."
  value       = module.eks.cluster_endpoint
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA bundle of the Kubernetes API."
  value       = module.eks.cluster_certificate_authority_data
}

output "oidc_provider_arn" {
  description = "IRSA OIDC provider of the cluster."
  value       = module.eks.oidc_provider_arn
}

output "node_security_group_id" {
  description = "Security group shared by the nodes (allowed into the database)."
  value       = module.eks.node_security_group_id
}

output "app_irsa_role_arn" {
  description = "IAM role for the detection-api ServiceAccount (eks.amazonaws.com/role-arn annotation)."
  value       = module.app_irsa.arn
}

output "backup_irsa_role_arn" {
  description = "IAM role for the backup CronJob's ServiceAccount (chart value backup.serviceAccount.roleArn)."
  value       = module.backup_irsa.arn
}

output "secrets_kms_key_arn" {
  description = "KMS key encrypting Kubernetes secrets."
  value       = module.secrets_key.key_arn
}
