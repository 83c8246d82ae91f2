{{/* Labels of every object; `component` is runtime or gateway (empty for shared objects). */}}
{{- define "orkestra.labels" -}}
{{- if .component -}}
app.kubernetes.io/component: {{ .component }}
{{ end -}}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/name: orkestra
app.kubernetes.io/part-of: orkestra
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The labels that select a component's pods (immutable in a Deployment: no release or version). */}}
{{- define "orkestra.selector" -}}
app.kubernetes.io/component: {{ . }}
app.kubernetes.io/name: orkestra
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "orkestra.image" -}}
{{- if .image.digest -}}
{{ .image.repository }}@{{ .image.digest }}
{{- else -}}
{{ .image.repository }}:{{ .image.tag | default .root.Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* The ConfigMap the pods mount. */}}
{{- define "orkestra.katalogConfigMap" -}}
{{- if .Values.katalog.content -}}
orkestra-katalog-chart
{{- else -}}
{{ .Values.katalog.existingConfigMap }}
{{- end -}}
{{- end }}

{{/*
A component's Deployment. Arguments: root (the chart's context), component (runtime|gateway),
name (Deployment and ServiceAccount), command (the binary's subcommand), values (the
component's values), ports (list of {name, port}), replicas (false with an HPA).
*/}}
{{- define "orkestra.deployment" -}}
{{- $v := .values -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "orkestra.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  {{- if .replicas }}
  replicas: {{ $v.replicas }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "orkestra.selector" .component | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "orkestra.selector" .component | nindent 8 }}
        app.kubernetes.io/part-of: orkestra
      {{- with $v.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      serviceAccountName: {{ .name }}
      # Both components call the API server; the ServiceAccount itself mounts no token.
      automountServiceAccountToken: true
      enableServiceLinks: false
      terminationGracePeriodSeconds: 30
      securityContext:
        {{- toYaml .root.Values.podSecurityContext | nindent 8 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "orkestra.selector" .component | nindent 14 }}
      {{- with .root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .component }}
          image: {{ include "orkestra.image" (dict "image" $v.image "root" .root) | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: [{{ .command | quote }}, "--log-format", {{ $v.logFormat | quote }}]
          env:
            - name: ORK_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: KATALOG_PATH
              value: /etc/orkestra/katalog.yaml
            - name: ORK_PORT
              value: "8080"
          ports:
            {{- range .ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          startupProbe:
            httpGet: {path: /startup, port: http}
            periodSeconds: 2
            timeoutSeconds: 2
            failureThreshold: 60
          livenessProbe:
            httpGet: {path: /health, port: http}
            periodSeconds: 10
            timeoutSeconds: 2
            failureThreshold: 3
          readinessProbe:
            httpGet: {path: /ready, port: http}
            periodSeconds: 5
            timeoutSeconds: 2
            failureThreshold: 2
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          securityContext:
            {{- toYaml .root.Values.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: katalog
              mountPath: /etc/orkestra
              readOnly: true
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: katalog
          configMap:
            name: {{ include "orkestra.katalogConfigMap" .root }}
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end }}

{{/* A component's PodDisruptionBudget. Arguments: root, component, name, values. */}}
{{- define "orkestra.pdb" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "orkestra.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  minAvailable: {{ .values.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "orkestra.selector" .component | nindent 6 }}
  unhealthyPodEvictionPolicy: AlwaysAllow
{{- end }}

{{/* A component's NetworkPolicy letting in exactly its ports. Arguments: root, component, name, ports. */}}
{{- define "orkestra.allowServed" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "orkestra.labels" (dict "root" .root "component" .component) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "orkestra.selector" .component | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    - ports:
        {{- range .ports }}
        - port: {{ .port }}
          protocol: TCP
        {{- end }}
{{- end }}
