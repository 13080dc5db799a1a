{{/*
The environment of users and products, split the way Kubernetes injects it:
non-secret settings (ConfigMap) and sensitive ones (Secret). Both take
(dict "root" $ "component" "users").
*/}}

{{- define "shop.service.configData" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $reserved := list "APP_ENV" "LOG_FORMAT" "RUST_LOG" "SHUTDOWN_GRACE" "SHUTDOWN_DRAIN_DELAY" "LISTEN_ADDR" "METRICS_LISTEN_ADDR" "DATA_DIR" "JWT_ISSUER" "JWT_AUDIENCE" "DATABASE_URL" -}}
{{- if eq .component "users" -}}
{{- $reserved = append $reserved "TRUSTED_PROXIES" -}}
{{- if $values.adminEmail -}}
{{- $reserved = append $reserved "ADMIN_EMAIL" -}}
{{- end -}}
{{- end -}}
{{- if and (eq .component "products") $values.demoCatalogue -}}
{{- $reserved = append $reserved "SEED_DEMO_CATALOGUE" -}}
{{- end }}
{{ include "shop.commonEnv" $root }}
SHUTDOWN_GRACE: {{ printf "%ds" (int $root.Values.common.shutdownGraceSeconds) | quote }}
SHUTDOWN_DRAIN_DELAY: {{ printf "%ds" (int $root.Values.common.shutdownDrainDelaySeconds) | quote }}
LISTEN_ADDR: {{ printf "0.0.0.0:%d" (int $values.port) | quote }}
METRICS_LISTEN_ADDR: {{ printf "0.0.0.0:%d" (int $root.Values.monitoring.servicesMetricsPort) | quote }}
DATA_DIR: "/var/lib/shop/data"
JWT_ISSUER: {{ $root.Values.auth.issuer | quote }}
JWT_AUDIENCE: {{ $root.Values.auth.audience | quote }}
{{- if eq .component "users" }}
TRUSTED_PROXIES: {{ join "," $values.trustedProxies | quote }}
{{- end }}
{{- if and (eq .component "products") (not (hasKey $values.config "JWKS_URL")) }}
JWKS_URL: {{ printf "http://%s:%d/.well-known/jwks.json" (include "shop.componentName" (dict "root" $root "component" "users")) (int $root.Values.users.port) | quote }}
{{- end }}
{{- if and (eq .component "users") $values.adminEmail }}
ADMIN_EMAIL: {{ $values.adminEmail | quote }}
{{- end }}
{{- if and (eq .component "products") $values.demoCatalogue }}
SEED_DEMO_CATALOGUE: "true"
{{- end }}
{{- include "shop.envMap" (dict "values" $values.config "path" (printf "%s.config" .component) "reserved" $reserved "secret" false) }}
{{- end -}}

{{- define "shop.service.secretData" -}}
{{- $values := index .root.Values .component -}}
{{- $reserved := list "APP_ENV" "LOG_FORMAT" "RUST_LOG" "SHUTDOWN_GRACE" "SHUTDOWN_DRAIN_DELAY" "LISTEN_ADDR" "METRICS_LISTEN_ADDR" "DATA_DIR" -}}
{{- include "shop.envMap" (dict "values" $values.secretEnv "path" (printf "%s.secretEnv" .component) "reserved" $reserved "secret" true) }}
{{- end -}}

{{/* Fail early, naming the value to set, when a service would start without what production requires. */}}
{{- define "shop.service.requirements" -}}
{{- $root := .root -}}
{{- $values := index $root.Values .component -}}
{{- $provided := or $values.existingSecret $values.extraEnvFromSecrets -}}
{{- if and (not $provided) (not $root.Values.postgresql.enabled) (not $values.database.urlSecret.name) (not (hasKey $values.secretEnv "DATABASE_URL")) -}}
{{- fail (printf "%s needs a database: set %s.existingSecret (a Secret with DATABASE_URL), %s.database.urlSecret, %s.secretEnv.DATABASE_URL, or postgresql.enabled=true" .component .component .component .component) -}}
{{- end -}}
{{- if and (eq .component "users") (not $provided) (not (hasKey $values.secretEnv "JWT_SIGNING_KEY")) (not (hasKey $values.secretEnv "JWT_SIGNING_KEY_FILE")) -}}
{{- fail "users needs a signing key: set users.existingSecret (a Secret with JWT_SIGNING_KEY) or users.secretEnv.JWT_SIGNING_KEY (an Ed25519 PKCS#8 PEM)" -}}
{{- end -}}
{{- end -}}
