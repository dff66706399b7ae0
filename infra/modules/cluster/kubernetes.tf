# In-cluster pieces that make the node bounds and persistent volumes real.

# The only default class: EKS stopped marking its gp2 class as default with Kubernetes 1.30 (the
# settings module only accepts 1.30+), so nothing else needs demoting.
resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name = "gp3"
    annotations = {
      "storageclass.kubernetes.io/is-default-class" = "true"
    }
  }

  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Retain"
  volume_binding_mode    = "WaitForFirstConsumer"
  allow_volume_expansion = true

  parameters = {
    type      = "gp3"
    encrypted = "true"
    kmsKeyId  = module.volumes_key.key_arn
  }

  depends_on = [module.eks]
}

resource "helm_release" "cluster_autoscaler" {
  name       = "cluster-autoscaler"
  namespace  = "kube-system"
  repository = "https://kubernetes.github.io/autoscaler"
  chart      = "cluster-autoscaler"
  version    = var.cluster_autoscaler_chart_version

  values = [yamlencode({
    awsRegion = data.aws_region.current.region
    autoDiscovery = {
      clusterName = module.eks.cluster_name
    }
    rbac = {
      serviceAccount = {
        create = true
        name   = "cluster-autoscaler"
        annotations = {
          "eks.amazonaws.com/role-arn" = module.cluster_autoscaler_irsa.arn
        }
      }
    }
    extraArgs = {
      "balance-similar-node-groups" = true
      "skip-nodes-with-system-pods" = false
      expander                      = "least-waste"
    }
    nodeSelector = { workload = "monitoring" }
    tolerations = [{
      key      = local.monitoring_taint.key
      operator = "Equal"
      value    = local.monitoring_taint.value
      effect   = "NoSchedule"
    }]
  })]

  depends_on = [module.eks]
}
