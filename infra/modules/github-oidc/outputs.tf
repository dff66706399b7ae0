output "plan_role_arn" {
  description = "Read-only role for `terraform plan` on pull requests and main."
  value       = module.plan_role.arn
}

output "apply_role_arns" {
  description = "Per-environment roles for `terraform apply`."
  value       = { for environment, role in module.apply_role : environment => role.arn }
}

output "deploy_role_arns" {
  description = "Per-environment roles for the application pipeline (ECR push, EKS describe)."
  value       = { for environment, role in module.deploy_role : environment => role.arn }
}
