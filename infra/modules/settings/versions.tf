terraform {
  # Provider-free on purpose: `terraform validate` and `terraform test` run offline against it.
  required_version = ">= 1.9.0"
}
