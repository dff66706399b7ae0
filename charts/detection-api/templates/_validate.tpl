{{/* Render-time checks for rules that JSON schema cannot express. Each message names the value. */}}
{{- define "detection-api.validate" -}}
{{- $v := .Values }}
{{- $needed := add $v.preStopSleepSeconds $v.config.shutdownDrainSeconds }}
{{- if le (int $v.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + config.shutdownDrainSeconds (%v)" $v.terminationGracePeriodSeconds $needed) }}
{{- end }}
{{- range $color := list "blue" "green" }}
{{- $replicas := int (index $v.colors $color).replicaCount }}
{{- if and (gt $replicas 0) (le $replicas (int $v.podDisruptionBudget.minAvailable)) }}
{{- fail (printf "colors.%s.replicaCount (%d) must be 0 or greater than podDisruptionBudget.minAvailable (%v), or node drains block" $color $replicas $v.podDisruptionBudget.minAvailable) }}
{{- end }}
{{- end }}
{{- if and $v.autoscaling.enabled (le (int $v.autoscaling.minReplicas) (int $v.podDisruptionBudget.minAvailable)) }}
{{- fail (printf "autoscaling.minReplicas (%v) must be greater than podDisruptionBudget.minAvailable (%v)" $v.autoscaling.minReplicas $v.podDisruptionBudget.minAvailable) }}
{{- end }}
{{- if eq (int (index $v.colors $v.activeColor).replicaCount) 0 }}
{{- fail (printf "colors.%s.replicaCount must be > 0: it is the activeColor and the main Service would select no pods" $v.activeColor) }}
{{- end }}
{{- if eq $v.environment "production" }}
{{- if $v.config.docsEnabled }}
{{- fail "config.docsEnabled must be false in production" }}
{{- end }}
{{- if hasPrefix "memory" $v.config.rateLimitStorage }}
{{- fail "config.rateLimitStorage must be shared (redis://...) in production" }}
{{- end }}
{{- end }}
{{- if has $v.environment (list "staging" "production") }}
{{- range $color := list "blue" "green" }}
{{- $spec := index $v.colors $color }}
{{- $runsMigrations := and $v.migrations.enabled (eq $v.migrations.imageFromColor $color) }}
{{- if and (or (gt (int $spec.replicaCount) 0) $runsMigrations) (not $spec.digest) }}
{{- fail (printf "colors.%s.digest is required in %s: images are pinned by digest (inv deploy passes it)" $color $v.environment) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $v.database.iamAuth (not $v.database.host) }}
{{- fail "database.host is required when database.iamAuth is true" }}
{{- end }}
{{- if and $v.tak.keyPasswordKey (not $v.tak.clientCertSecret) }}
{{- fail "tak.keyPasswordKey needs tak.clientCertSecret: the password is read from that Secret" }}
{{- end }}
{{- include "detection-api.validateBackup" . }}
{{- end }}

{{/* The backup CronJob: where it writes, as whom, from which image, through which network allows. */}}
{{- define "detection-api.validateBackup" -}}
{{- $v := .Values }}
{{- $b := $v.backup }}
{{- if $b.enabled }}
{{- range $key := list "bucket" "kmsKeyArn" }}
{{- if not (index $b $key) }}
{{- fail (printf "backup.%s is required when backup.enabled is true" $key) }}
{{- end }}
{{- end }}
{{- if not $b.serviceAccount.roleArn }}
{{- fail "backup.serviceAccount.roleArn is required when backup.enabled is true" }}
{{- end }}
{{- if eq $b.serviceAccount.roleArn $v.serviceAccount.roleArn }}
{{- fail "backup.serviceAccount.roleArn must not be the service's role (serviceAccount.roleArn): only the backup role may write backups" }}
{{- end }}
{{- if and (has $v.environment (list "staging" "production")) (not $b.image.digest) }}
{{- fail (printf "backup.image.digest is required in %s: images are pinned by digest" $v.environment) }}
{{- end }}
{{- if and $v.networkPolicy.enabled (not (and $v.networkPolicy.postgresCidrs $v.networkPolicy.awsEndpointCidrs)) }}
{{- fail "backup.enabled needs networkPolicy.postgresCidrs and networkPolicy.awsEndpointCidrs: the backup pods reach only those (and DNS)" }}
{{- end }}
{{- end }}
{{- end }}
