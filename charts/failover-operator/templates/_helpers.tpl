{{/* Chart name, truncated to a DNS label. */}}
{{- define "failover-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart, unless the release name already contains the chart name. */}}
{{- define "failover-operator.fullname" -}}
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

{{- define "failover-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "failover-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "failover-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The recommended app.kubernetes.io labels, on the pod template as on every object (no helm.sh/chart there). */}}
{{- define "failover-operator.podLabels" -}}
{{ include "failover-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: failover-operator
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "failover-operator.labels" -}}
helm.sh/chart: {{ include "failover-operator.chart" . }}
{{ include "failover-operator.podLabels" . }}
{{- end }}

{{/* repository@digest when image.digest is set (the digest wins over the tag), else repository:tag (default: appVersion). */}}
{{- define "failover-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "failover-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "failover-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- /*
tenancy.grants normalised as the operator normalises them (src/api/tenancy.ts), as JSON that is also a CEL literal
for the admission policy. The apiserver's CEL wants homogeneous literals (a map's values all of one type), so each
namespace maps to three lists of strings:
  route53:         "<hostedZoneId> <recordName>"   record names lower case, one trailing dot, `\052` read as `*`
  rds:             "<region>/<dbInstanceIdentifier>" identifier lower case
  launchTemplates: "<region>/<ID or name>"          region `*` when the grant names none
*/}}
{{- define "failover-operator.tenancyGrantsJson" -}}
{{- $out := dict }}
{{- range $ns, $grant := .Values.tenancy.grants }}
{{- $grant = $grant | default dict }}
{{- $route53 := list }}
{{- range ($grant.route53 | default list) }}
{{- $zone := .hostedZoneId }}
{{- range .recordNames }}
{{- $name := lower . | replace "\\052" "*" }}
{{- if not (hasSuffix "." $name) }}{{ $name = printf "%s." $name }}{{ end }}
{{- $route53 = append $route53 (printf "%s %s" $zone $name) }}
{{- end }}
{{- end }}
{{- $rds := list }}
{{- range ($grant.rds | default list) }}
{{- $rds = append $rds (printf "%s/%s" .region (lower .dbInstanceIdentifier)) }}
{{- end }}
{{- $templates := list }}
{{- range ($grant.launchTemplates | default list) }}
{{- $templates = append $templates (printf "%s/%s" (.region | default "*") (.launchTemplateId | default .launchTemplateName)) }}
{{- end }}
{{- $_ := set $out $ns (dict "route53" $route53 "rds" $rds "launchTemplates" $templates) }}
{{- end }}
{{- toJson $out }}
{{- end }}
