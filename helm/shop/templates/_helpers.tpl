{{/* Names, labels and the pieces every component's manifests share. */}}

{{- define "shop.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>" unless the release name already contains the chart name. */}}
{{- define "shop.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Name of a component's resources: (dict "root" $ "component" "users"). The
prefix is cut to 40 characters so the longest name, "<prefix>-postgresql-headless",
stays a valid 63-character DNS label.
*/}}
{{- define "shop.componentName" -}}
{{- printf "%s-%s" (include "shop.fullname" .root | trunc 40 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "shop.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "shop.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shop.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "shop.labels" -}}
helm.sh/chart: {{ include "shop.chart" .root }}
{{ include "shop.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: shop
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "shop.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "shop.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* "<registry>/<repository>:<tag>"; the tag defaults to the chart's appVersion. */}}
{{- define "shop.image" -}}
{{- $values := index .root.Values .component -}}
{{- $tag := $values.image.tag | default .root.Values.image.tag | default .root.Chart.AppVersion | toString -}}
{{- if eq $tag "latest" -}}
{{- fail (printf "%s.image.tag: \"latest\" is not allowed; pin a version (the default is the chart's appVersion %s)" .component .root.Chart.AppVersion) -}}
{{- end -}}
{{- if .root.Values.image.registry -}}
{{- printf "%s/%s:%s" (trimSuffix "/" .root.Values.image.registry) $values.image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" $values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* The preStop wait, the services' drain delay, the shutdown grace and a
margin: what the kubelet allows before SIGKILL. */}}
{{- define "shop.terminationGracePeriodSeconds" -}}
{{- $c := .Values.common -}}
{{- add $c.preStopSleepSeconds $c.shutdownDrainDelaySeconds $c.shutdownGraceSeconds $c.terminationGraceExtraSeconds -}}
{{- end -}}

{{/* Pod-level security: non-root uid 10001 (the images' user), RuntimeDefault seccomp. */}}
{{- define "shop.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security: nothing to escalate to, nothing to write but the mounted volumes. */}}
{{- define "shop.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . | default 10001 }}
runAsGroup: {{ . | default 10001 }}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* preStop: keep serving while endpoints and the gateway stop routing to this pod. */}}
{{- define "shop.lifecycle" -}}
preStop:
  exec:
    command: ["sleep", {{ .Values.common.preStopSleepSeconds | toString | quote }}]
{{- end -}}

{{/* Settings every component's ConfigMap carries. */}}
{{- define "shop.commonEnv" -}}
APP_ENV: {{ .Values.common.appEnv | quote }}
LOG_FORMAT: {{ .Values.common.logFormat | quote }}
RUST_LOG: {{ .Values.common.rustLog | quote }}
{{- end -}}

{{/*
User-supplied environment maps: refuse keys the chart sets itself (they would
be silently shadowed) and secrets put into a ConfigMap.
(dict "values" $map "path" "users.config" "reserved" (list ...) "secret" bool)
*/}}
{{- define "shop.envMap" -}}
{{- $secretNames := list "DATABASE_URL" "JWT_SIGNING_KEY" "JWT_PUBLISHED_KEYS" "ADMIN_PASSWORD" -}}
{{- range $key, $value := .values -}}
{{- if has $key $.reserved -}}
{{- fail (printf "%s.%s is set by the chart; use the dedicated value instead (see docs/DEPLOY-KUBERNETES.md)" $.path $key) -}}
{{- end -}}
{{- if and (not $.secret) (has $key $secretNames) -}}
{{- fail (printf "%s.%s is a secret: put it in the component's secretEnv or existingSecret, not in a ConfigMap" $.path $key) -}}
{{- end }}
{{ $key }}: {{ $value | toString | toJson }}
{{- end -}}
{{- end -}}

{{/* Image pull secrets of every pod. */}}
{{- define "shop.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The upstream URLs the gateway receives, by upstream name: users and products
at the release's Services, then gateway.upstreams.
*/}}
{{- define "shop.gatewayUpstreams" -}}
{{- $suffix := ternary "-headless" "" (eq .Values.gateway.upstreamDiscovery "headless") -}}
{{- $u := dict
  "users" (printf "http://%s%s:%d" (include "shop.componentName" (dict "root" . "component" "users")) $suffix (int .Values.users.port))
  "products" (printf "http://%s%s:%d" (include "shop.componentName" (dict "root" . "component" "products")) $suffix (int .Values.products.port)) -}}
{{- range $name, $urls := .Values.gateway.upstreams -}}
{{- $_ := set $u $name $urls -}}
{{- end -}}
{{- toYaml $u -}}
{{- end -}}

{{/* <NAME>_UPSTREAM, as the gateway derives it from an upstream's name. */}}
{{- define "shop.upstreamEnvVar" -}}
{{- regexReplaceAll "[^A-Z0-9]" (upper .) "_" -}}_UPSTREAM
{{- end -}}

{{/*
Where a component's pods may run: its nodeSelector and tolerations, and its
affinity and topologySpreadConstraints, or, when those are empty and
common.podSpread is "soft", the chart's defaults: prefer a node without
another pod of the component, and spread over zones where nodes have them
(both preferences only, so a one-node cluster still schedules everything).
(dict "root" $ "component" "users")
*/}}
{{- define "shop.scheduling" -}}
{{- $values := index .root.Values .component -}}
{{- $soft := eq .root.Values.common.podSpread "soft" -}}
{{- with $values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $values.affinity }}
affinity:
  {{- toYaml $values.affinity | nindent 2 }}
{{- else if and (eq .component "gateway") (include "shop.gateway.acmeSingleNode" .root) }}
# The ACME claim is ReadWriteOnce: every gateway pod (the rolling update's
# extra one too) goes to the node of the others. The first one may go
# anywhere: a pod matching its own required affinity term is allowed when
# no other pod does.
affinity:
  podAffinity:
    requiredDuringSchedulingIgnoredDuringExecution:
      - topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "shop.selectorLabels" . | nindent 12 }}
{{- else if $soft }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "shop.selectorLabels" . | nindent 14 }}
{{- end }}
{{- with $values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml $values.topologySpreadConstraints | nindent 2 }}
{{- else if $soft }}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "shop.selectorLabels" . | nindent 8 }}
{{- end }}
{{- end -}}

{{/*
The most pods of a component that can run at once: the autoscaler's maximum
(or replicaCount) plus the one extra pod of a rolling update (maxSurge 1).
(dict "root" $ "component" "users")
*/}}
{{- define "shop.maxPods" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.autoscaling.enabled -}}
{{- add (int $values.autoscaling.maxReplicas) 1 -}}
{{- else -}}
{{- add (int $values.replicaCount) 1 -}}
{{- end -}}
{{- end -}}

{{/* The fewest pods of a component the chart keeps running: replicaCount, or the autoscaler's minimum. */}}
{{- define "shop.minPods" -}}
{{- $values := index .root.Values .component -}}
{{- if $values.autoscaling.enabled -}}
{{- $values.autoscaling.minReplicas -}}
{{- else -}}
{{- $values.replicaCount -}}
{{- end -}}
{{- end -}}

{{/*
A service's database pool size: DATABASE_MAX_CONNECTIONS from its config,
else the services' default (10). A value kept only in the service's own
Secret is not visible here.
*/}}
{{- define "shop.poolSize" -}}
{{- $values := index .root.Values .component -}}
{{- int (index $values.config "DATABASE_MAX_CONNECTIONS" | default 10) -}}
{{- end -}}

{{/*
Connections users and products can open at the most (every pod, the
rolling-update extra included, with a full pool), and what PostgreSQL
allows them: postgresql.maxConnections minus its 3 superuser-reserved ones.
Rendered as "needed allowed".
*/}}
{{- define "shop.connectionBudget" -}}
{{- $needed := 0 -}}
{{- range $component := list "users" "products" -}}
{{- $ctx := dict "root" $.root "component" $component -}}
{{- $needed = add $needed (mul (include "shop.maxPods" $ctx | int) (include "shop.poolSize" $ctx | int)) -}}
{{- end -}}
{{- printf "%d %d" (int $needed) (sub (int .root.Values.postgresql.maxConnections) 3) -}}
{{- end -}}
