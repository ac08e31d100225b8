{{/* Chart name. */}}
{{- define "clustergenie.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name. */}}
{{- define "clustergenie.fullname" -}}
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

{{/* Common labels. */}}
{{- define "clustergenie.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "clustergenie.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels. */}}
{{- define "clustergenie.selectorLabels" -}}
app.kubernetes.io/name: {{ include "clustergenie.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Whether PostgreSQL is configured (otherwise embedded SQLite). */}}
{{- define "clustergenie.usesPostgres" -}}
{{- if or .Values.database.existingSecret .Values.database.url }}true{{- end }}
{{- end }}

{{/* The Secret holding DATABASE_URL. */}}
{{- define "clustergenie.databaseSecret" -}}
{{- default (printf "%s-database" (include "clustergenie.fullname" .)) .Values.database.existingSecret }}
{{- end }}
