// Validates CRD-backed objects against the CRDs' OpenAPI schemas (kubernetes-models validators).
// Input on stdin: a JSON list of manifests. Output: a JSON list of {kind, name, error|null}.
// A kind without a model is an error, never a silent pass.
import { ExternalSecret } from "@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";

const models = [ExternalSecret, PrometheusRule, ServiceMonitor];

function check(manifest) {
  const Model = models.find((m) => m.kind === manifest.kind && m.apiVersion === manifest.apiVersion);
  if (!Model) return `no schema for ${manifest.apiVersion} ${manifest.kind}`;
  try {
    new Model(manifest).validate();
    return null;
  } catch (error) {
    return String(error.message ?? error);
  }
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = JSON.parse(input).map((manifest) => ({
  kind: manifest.kind,
  name: manifest.metadata?.name,
  error: check(manifest),
}));
process.stdout.write(JSON.stringify(results));
