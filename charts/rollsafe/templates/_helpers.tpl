{{/* The name part of resource names. */}}
{{- define "rollsafe.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full resource name: the release name, plus the chart name unless the release name holds it. */}}
{{- define "rollsafe.fullname" -}}
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

{{/* Labels that select the webhook pods (stable across upgrades). */}}
{{- define "rollsafe.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollsafe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{/* Labels on every object. */}}
{{- define "rollsafe.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "rollsafe.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: rollsafe
{{- end }}

{{/* Name of the Secret holding the serving certificate. */}}
{{- define "rollsafe.tlsSecret" -}}
{{- if eq .Values.certificates.mode "existingSecret" }}
{{- .Values.certificates.existingSecret.name }}
{{- else }}
{{- printf "%s-tls" (include "rollsafe.fullname" .) }}
{{- end }}
{{- end }}

{{/*
The webhook entries of one configuration: one per value of the namespace label rollsafe.dev/mode (as in
manifests/base), and for validation one per value of elbv2.k8s.aws/pod-readiness-gate-inject (enabled or not).
The apiserver picks the entry with the namespaceSelector; the path tells the server the mode and the label;
namespaces labelled "off" match no entry. Every entry has the same rules: apps workloads, and Argo Rollouts
with argoRollouts.enabled. Arguments: the root context, "validate" or "mutate", and the caBundle (base64, may be
empty when cert-manager injects it).
*/}}
{{- define "rollsafe.webhooks" -}}
{{- $root := index . 0 }}
{{- $kind := index . 1 }}
{{- $caBundle := index . 2 }}
{{- $excluded := concat (list "kube-system" "kube-node-lease" $root.Release.Namespace) $root.Values.webhook.excludeNamespaces | uniq }}
{{- $facts := list "" }}
{{- if eq $kind "validate" }}{{ $facts = list "no-elbv2-gates" "elbv2-gates" }}{{ end }}
{{- range $mode := list "default" "enforce" "warn" "audit" }}
{{- range $fact := $facts }}
- name: {{ $mode }}.{{ if eq $fact "elbv2-gates" }}elbv2-gates.{{ end }}{{ $kind }}.rollsafe.dev
  admissionReviewVersions: [v1]
  sideEffects: None
  timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
  failurePolicy: {{ $root.Values.webhook.failurePolicy }}
  matchPolicy: Equivalent
  {{- if eq $kind "mutate" }}
  reinvocationPolicy: {{ $root.Values.webhook.reinvocationPolicy }}
  {{- end }}
  clientConfig:
    service:
      namespace: {{ $root.Release.Namespace }}
      name: {{ include "rollsafe.fullname" $root }}
      port: 443
      path: /{{ $kind }}{{ if ne $mode "default" }}/{{ $mode }}{{ end }}{{ if $fact }}/ns/{{ $fact }}{{ end }}
    {{- if $caBundle }}
    caBundle: {{ $caBundle }}
    {{- end }}
  rules:
    - apiGroups: [apps]
      apiVersions: [v1]
      resources: [deployments, statefulsets, daemonsets]
      operations: [CREATE, UPDATE]
      scope: Namespaced
    {{- if $root.Values.argoRollouts.enabled }}
    - apiGroups: [argoproj.io]
      apiVersions: [v1alpha1]
      resources: [rollouts]
      operations: [CREATE, UPDATE]
      scope: Namespaced
    {{- end }}
  namespaceSelector:
    matchExpressions:
      - {key: kubernetes.io/metadata.name, operator: NotIn, values: {{ toJson $excluded }}}
      {{- if eq $mode "default" }}
      - {key: rollsafe.dev/mode, operator: DoesNotExist}
      {{- else }}
      - {key: rollsafe.dev/mode, operator: In, values: [{{ $mode }}]}
      {{- end }}
      {{- if $fact }}
      - {key: elbv2.k8s.aws/pod-readiness-gate-inject, operator: {{ if eq $fact "elbv2-gates" }}In{{ else }}NotIn{{ end }}, values: [enabled]}
      {{- end }}
      {{- with $root.Values.webhook.namespaceSelectorExpressions }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  {{- with $root.Values.webhook.objectSelector }}
  objectSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end }}
{{- end }}
