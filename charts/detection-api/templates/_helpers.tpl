{{/* Names, labels and shared snippets. */}}

{{- define "detection-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "detection-api.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Selector labels shared by every pod of the release (both colours, migrations). */}}
{{- define "detection-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "detection-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "detection-api.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "detection-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: detection-api
{{- end }}

{{/* Pods serving the API (either colour): the target of Services, PDBs and ingress allows. */}}
{{- define "detection-api.apiSelectorLabels" -}}
{{ include "detection-api.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/* Selector of one colour: call with (dict "root" $ "color" "blue"). */}}
{{- define "detection-api.colorSelectorLabels" -}}
{{ include "detection-api.apiSelectorLabels" .root }}
detection-api/color: {{ .color }}
{{- end }}

{{- define "detection-api.serviceAccountName" -}}
detection-api
{{- end }}

{{/* The pods of the service itself (API colours and the migration Job): the app's network allows
select these, so the backup pods get only their own (templates/networkpolicy.yaml). */}}
{{- define "detection-api.appPodSelector" -}}
matchLabels:
  {{- include "detection-api.selectorLabels" . | nindent 2 }}
matchExpressions:
  - key: app.kubernetes.io/component
    operator: In
    values: [api, migrations]
{{- end }}

{{/* Backup CronJob and its ServiceAccount: <fullname>-backup, short enough for the Job names the
CronJob controller derives from it (CronJob names are limited to 52 characters). */}}
{{- define "detection-api.backupName" -}}
{{- printf "%s-backup" (include "detection-api.fullname" . | trunc 45 | trimSuffix "-") }}
{{- end }}

{{- define "detection-api.backupSelectorLabels" -}}
{{ include "detection-api.selectorLabels" . }}
app.kubernetes.io/component: backup
{{- end }}

{{/* Image of the backup CronJob (the ops image, ops/Dockerfile): digest-pinned when a digest is given. */}}
{{- define "detection-api.backupImage" -}}
{{- $image := .Values.backup.image }}
{{- if $image.digest }}
{{- printf "%s:%s@%s" $image.repository $image.tag $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository $image.tag }}
{{- end }}
{{- end }}

{{- define "detection-api.releaseConfigMapName" -}}
{{ include "detection-api.fullname" . }}-release
{{- end }}

{{- define "detection-api.idleColor" -}}
{{- if eq .Values.activeColor "blue" }}green{{ else }}blue{{ end }}
{{- end }}

{{/* Image reference of a colour: digest-pinned when a digest is given. */}}
{{- define "detection-api.image" -}}
{{- $colour := index .root.Values.colors .color }}
{{- if $colour.digest }}
{{- printf "%s:%s@%s" .root.Values.image.repository $colour.tag $colour.digest }}
{{- else }}
{{- printf "%s:%s" .root.Values.image.repository $colour.tag }}
{{- end }}
{{- end }}

{{/* Restricted Pod Security Standard, shared by the API pods, the migration Job and the backup CronJob. */}}
{{- define "detection-api.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "detection-api.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Documented scanner suppressions for the workloads, next to the reason.
CKV_K8S_35 (secrets as files): the service reads its settings from DETECTION_API_* variables
(pydantic-settings); the values come from secretKeyRef to a Secret created outside the chart,
so no secret value is ever in the chart or the manifest.
*/}}
{{- define "detection-api.workloadAnnotations" -}}
checkov.io/skip1: CKV_K8S_35=Settings are environment variables (pydantic-settings); values come from secretKeyRef, never from the chart
{{- end }}

{{/* Port of a TAK destination URL (tcp://host:port or tls://host:port). */}}
{{- define "detection-api.urlPort" -}}
{{- regexFind "[0-9]+$" . }}
{{- end }}

{{/* Environment shared by the API containers and the migration Job (delivery settings are API-only). */}}
{{- define "detection-api.env" -}}
- name: DETECTION_API_ENVIRONMENT
  value: {{ .Values.environment | quote }}
- name: DETECTION_API_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
- name: DETECTION_API_HOST
  value: "0.0.0.0"
- name: DETECTION_API_PORT
  value: "8000"
- name: DETECTION_API_METRICS_HOST
  value: "0.0.0.0"
- name: DETECTION_API_METRICS_PORT
  value: "9100"
- name: DETECTION_API_SHUTDOWN_DRAIN_SECONDS
  value: {{ .Values.config.shutdownDrainSeconds | quote }}
- name: DETECTION_API_CORS_ORIGINS
  value: {{ .Values.config.corsOrigins | toJson | quote }}
- name: DETECTION_API_DOCS_ENABLED
  value: {{ .Values.config.docsEnabled | quote }}
- name: DETECTION_API_RATE_LIMIT_STORAGE
  value: {{ .Values.config.rateLimitStorage | quote }}
{{- with .Values.config.awsRegion }}
- name: DETECTION_API_AWS_REGION
  value: {{ . | quote }}
{{- end }}
{{- with .Values.config.jwt }}
{{- if .issuer }}
- name: DETECTION_API_JWT_ISSUER
  value: {{ .issuer | quote }}
- name: DETECTION_API_JWT_AUDIENCE
  value: {{ .audience | quote }}
- name: DETECTION_API_JWT_JWKS_URL
  value: {{ .jwksUrl | quote }}
{{- end }}
{{- end }}
{{ include "detection-api.databaseEnv" . }}
- name: DETECTION_API_API_KEY_PEPPER
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.name }}
      key: {{ .Values.secrets.apiKeyPepperKey }}
{{- end }}

{{/* The database connection, shared by the service, the migration Job and the backup CronJob. */}}
{{- define "detection-api.databaseEnv" -}}
- name: DETECTION_API_DATABASE_SSLMODE
  value: {{ .Values.database.sslmode | quote }}
{{- if .Values.database.iamAuth }}
{{- /* IAM auth: the URL carries no password (the service signs a token per connection), so it is no secret. */}}
- name: DETECTION_API_DATABASE_IAM_AUTH
  value: "true"
- name: DETECTION_API_DATABASE_URL
  value: {{ printf "postgresql://%s@%s:%v/%s" .Values.database.user .Values.database.host .Values.database.port .Values.database.name | quote }}
{{- else }}
- name: DETECTION_API_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.name }}
      key: {{ .Values.secrets.databaseUrlKey }}
{{- end }}
{{- end }}

{{/* TAK destination URLs for the service: each named (the metrics label), and TLS ones pointed
at the client certificate, key and CA mounted from tak.clientCertSecret. */}}
{{- define "detection-api.takUrls" -}}
{{- $urls := list }}
{{- $certs := "/etc/detection-api/tak" }}
{{- range .Values.tak.destinations }}
{{- $url := printf "%s?name=%s" .url .name }}
{{- if and (hasPrefix "tls://" .url) $.Values.tak.clientCertSecret }}
{{- $url = printf "%s&ca_file=%s/ca.crt&cert_file=%s/tls.crt&key_file=%s/tls.key" $url $certs $certs $certs }}
{{- end }}
{{- $urls = append $urls $url }}
{{- end }}
{{- $urls | toJson }}
{{- end }}

{{/* Writable scratch space (the root filesystem is read-only), for the API pods and the migration Job. */}}
{{- define "detection-api.scratchVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
- name: data
  emptyDir:
    sizeLimit: 1Gi
{{- end }}

{{- define "detection-api.scratchVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/detection-api
{{- end }}
