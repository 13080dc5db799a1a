{{/* In-chart PostgreSQL: names and the per-service connection. */}}

{{- define "shop.postgresql.name" -}}
{{- include "shop.componentName" (dict "root" . "component" "postgresql") -}}
{{- end -}}

{{/*
What a service's DATABASE_URL is made of, without a generated password, so
the pod checksum is stable across renders: (dict "root" $ "component" "users").
*/}}
{{- define "shop.postgresql.databaseUrl" -}}
{{- $auth := .root.Values.postgresql.auth -}}
host={{ include "shop.postgresql.name" .root }} db={{ .component }} role={{ .component }} password={{ index $auth (printf "%sPassword" .component) | default "generated" | sha256sum }}
{{- end -}}

{{/*
A password: the value given, else the one already in the release's Secret
(so upgrades keep it), else a new random one.
(dict "root" $ "given" "..." "key" "USERS_DB_PASSWORD")
*/}}
{{- define "shop.postgresql.password" -}}
{{- if .given -}}
{{- .given -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .root.Release.Namespace (include "shop.postgresql.name" .root) -}}
{{- if and $existing $existing.data (hasKey $existing.data .key) -}}
{{- index $existing.data .key | b64dec -}}
{{- else -}}
{{- randAlphaNum 32 -}}
{{- end -}}
{{- end -}}
{{- end -}}
