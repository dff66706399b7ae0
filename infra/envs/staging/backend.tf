terraform {
  backend "s3" {
    bucket         = "detection-api-terraform-state"
    key            = "envs/staging/terraform.tfstate"
    region         = "us-east-1"
    dynamodb_table = "detection-api-terraform-locks"
    encrypt        = true
    kms_key_id     = "alias/detection-api-terraform-state"
  }
}
