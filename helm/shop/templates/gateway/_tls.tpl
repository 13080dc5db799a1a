{{/*
HTTPS at the gateway: gateway.tls (a listener on container port 443, the
certificate from a kubernetes.io/tls Secret) and gateway.acme (Let's
Encrypt, state on a PersistentVolumeClaim). docs/HTTPS.md.
*/}}

{{/* Where the Secret's directory and the ACME storage are mounted. */}}
{{- define "shop.gateway.tlsDir" -}}/etc/gateway-tls{{- end -}}
{{- define "shop.gateway.acmeDir" -}}/var/lib/gateway/acme{{- end -}}

{{/* The variables the chart sets from gateway.tls and gateway.acme (refused in gateway.config and secretEnv). */}}
{{- define "shop.gateway.tlsEnvNames" -}}
{{- toYaml (list "GATEWAY_TLS_LISTEN" "GATEWAY_TLS_CERT" "GATEWAY_TLS_KEY" "GATEWAY_REDIRECT_HTTPS" "GATEWAY_HSTS_MAX_AGE" "GATEWAY_ACME_DOMAINS" "GATEWAY_ACME_CONTACT" "GATEWAY_ACME_DIRECTORY" "GATEWAY_ACME_STORAGE") -}}
{{- end -}}

{{/* Settings that make no sense together are refused, naming the values to set. */}}
{{- define "shop.gateway.tlsChecks" -}}
{{- $tls := .Values.gateway.tls -}}
{{- $acme := .Values.gateway.acme -}}
{{- if $tls.enabled -}}
{{- if not (or $tls.existingSecret $acme.enabled) -}}
{{- fail "gateway.tls.enabled needs a certificate: set gateway.tls.existingSecret (a kubernetes.io/tls Secret) or gateway.acme.enabled=true" -}}
{{- end -}}
{{- else -}}
{{- if $acme.enabled -}}
{{- fail "gateway.acme.enabled needs gateway.tls.enabled=true (the certificate is served by the HTTPS listener)" -}}
{{- end -}}
{{- if $tls.existingSecret -}}
{{- fail "gateway.tls.existingSecret is set but gateway.tls.enabled is false: set gateway.tls.enabled=true" -}}
{{- end -}}
{{- if or $tls.redirectHttps $tls.hstsMaxAge -}}
{{- fail "gateway.tls.redirectHttps and gateway.tls.hstsMaxAge need gateway.tls.enabled=true" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The gateway's environment for HTTPS (ConfigMap); nothing when gateway.tls is off. */}}
{{- define "shop.gateway.tlsEnv" -}}
{{- include "shop.gateway.tlsChecks" . -}}
{{- $tls := .Values.gateway.tls -}}
{{- $acme := .Values.gateway.acme -}}
{{- if $tls.enabled }}
GATEWAY_TLS_LISTEN: "0.0.0.0:443"
GATEWAY_REDIRECT_HTTPS: {{ $tls.redirectHttps | toString | quote }}
{{- with $tls.hstsMaxAge }}
GATEWAY_HSTS_MAX_AGE: {{ . | quote }}
{{- end }}
{{- if $tls.existingSecret }}
GATEWAY_TLS_CERT: {{ printf "%s/tls.crt" (include "shop.gateway.tlsDir" .) | quote }}
GATEWAY_TLS_KEY: {{ printf "%s/tls.key" (include "shop.gateway.tlsDir" .) | quote }}
{{- end }}
{{- if $acme.enabled }}
GATEWAY_ACME_DOMAINS: {{ join "," $acme.domains | quote }}
{{- with $acme.contact }}
GATEWAY_ACME_CONTACT: {{ join "," . | quote }}
{{- end }}
{{- with $acme.directory }}
GATEWAY_ACME_DIRECTORY: {{ . | quote }}
{{- end }}
GATEWAY_ACME_STORAGE: {{ include "shop.gateway.acmeDir" . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
ACME storage on a ReadWriteOnce (or ReadWriteOncePod) claim: every gateway
pod must run on one node to mount it. True (non-empty) then.
*/}}
{{- define "shop.gateway.acmeSingleNode" -}}
{{- $acme := .Values.gateway.acme -}}
{{- if and .Values.gateway.tls.enabled $acme.enabled (not (has "ReadWriteMany" $acme.storage.accessModes)) -}}true{{- end -}}
{{- end -}}

{{/* The name the HTTPS `helm test` asks for: helmTest.tls.serverName, the first ACME domain, or the Service's DNS name. */}}
{{- define "shop.helmTest.serverName" -}}
{{- $gw := include "shop.componentName" (dict "root" . "component" "gateway") -}}
{{- if .Values.helmTest.tls.serverName -}}
{{- .Values.helmTest.tls.serverName -}}
{{- else if and .Values.gateway.acme.enabled .Values.gateway.acme.domains -}}
{{- first .Values.gateway.acme.domains -}}
{{- else -}}
{{- printf "%s.%s.svc" $gw .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* The Secret whose ca.crt the HTTPS `helm test` trusts; empty for the image's public roots. */}}
{{- define "shop.helmTest.caSecret" -}}
{{- if .Values.helmTest.tls.caSecret -}}
{{- .Values.helmTest.tls.caSecret -}}
{{- else if .Values.helmTest.tls.caCert -}}
{{- include "shop.componentName" (dict "root" . "component" "helm-test-ca") -}}
{{- end -}}
{{- end -}}
