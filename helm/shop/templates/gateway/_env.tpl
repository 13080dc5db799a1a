{{/*
The gateway's non-secret environment (ConfigMap) and its route table. Its
shutdown grace is the table's timeouts.shutdown_grace (the chart's default
table takes common.shutdownGraceSeconds), not SHUTDOWN_GRACE.
*/}}

{{- define "shop.gateway.configData" -}}
{{- $g := .Values.gateway -}}
{{- $reserved := concat (list "APP_ENV" "LOG_FORMAT" "RUST_LOG" "GATEWAY_LISTEN" "GATEWAY_ADMIN_LISTEN" "GATEWAY_CONFIG" "GATEWAY_TRUSTED_PROXIES") (include "shop.gateway.tlsEnvNames" . | fromYamlArray) -}}
{{ include "shop.commonEnv" . }}
GATEWAY_LISTEN: {{ printf "0.0.0.0:%d" (int $g.containerPort) | quote }}
GATEWAY_ADMIN_LISTEN: {{ printf "0.0.0.0:%d" (int $g.adminPort) | quote }}
GATEWAY_CONFIG: "/etc/gateway/gateway.toml"
{{- with $g.trustedProxies }}
GATEWAY_TRUSTED_PROXIES: {{ join "," . | quote }}
{{- end }}
{{- include "shop.gateway.tlsEnv" . }}
{{- range $name, $urls := (include "shop.gatewayUpstreams" . | fromYaml) }}
{{ include "shop.upstreamEnvVar" $name }}: {{ $urls | quote }}
{{- end }}
{{- range $key, $value := $g.config }}
{{- if or (has $key $reserved) (hasSuffix "_UPSTREAM" $key) }}
{{- fail (printf "gateway.config.%s is set by the chart; use the dedicated value (gateway.upstreams, gateway.trustedProxies, gateway.tls.*, gateway.acme.*, common.*) instead" $key) }}
{{- end }}
{{- end }}
{{- include "shop.envMap" (dict "values" $g.config "path" "gateway.config" "reserved" $reserved "secret" false) }}
{{- end -}}

{{- define "shop.gateway.secretData" -}}
{{- include "shop.envMap" (dict "values" .Values.gateway.secretEnv "path" "gateway.secretEnv" "reserved" (concat (list "GATEWAY_LISTEN" "GATEWAY_ADMIN_LISTEN" "GATEWAY_CONFIG") (include "shop.gateway.tlsEnvNames" . | fromYamlArray)) "secret" true) }}
{{- end -}}

{{/* The route table: gateway.routeTable as given, else the chart's files/gateway.toml. */}}
{{- define "shop.gateway.routeTable" -}}
{{- if .Values.gateway.routeTable -}}
{{- .Values.gateway.routeTable -}}
{{- else -}}
{{- tpl (.Files.Get "files/gateway.toml") . -}}
{{- end -}}
{{- end -}}
