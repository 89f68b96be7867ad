{{- define "packetcapture.labels" -}}
app.kubernetes.io/name: packetcapture
app.kubernetes.io/part-of: harbormaster
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "packetcapture.selector" -}}
app.kubernetes.io/name: packetcapture
app.kubernetes.io/component: {{ . }}
{{- end }}

{{- define "packetcapture.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "packetcapture.webhookName" -}}
packetcapture-webhook
{{- end }}

{{/* What every container runs with: no privilege escalation, a read-only root, the runtime's seccomp profile. */}}
{{- define "packetcapture.restrictedContainer" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
seccompProfile:
  type: RuntimeDefault
{{- end }}
