{{/*
The operator's permissions, exactly the verbs listed under "Operator RBAC" in docs/architecture.md.
clusterRules: cluster-scoped reads kopf makes to notice CRDs and namespaces appear and go.
namespacedRules: the jobs and everything the operator creates for them.
*/}}
{{- define "mnft-operator.clusterRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
{{- end }}

{{- define "mnft-operator.namespacedRules" -}}
- apiGroups: ["finetune.mindspore.io"]
  resources: ["mobilenetfinetunes"]
  verbs: ["get", "list", "watch", "patch", "delete"]
- apiGroups: ["finetune.mindspore.io"]
  resources: ["mobilenetfinetunes/status"]
  verbs: ["get", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["", "events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- if .Values.rbac.volcano }}
- apiGroups: ["scheduling.volcano.sh"]
  resources: ["podgroups"]
  verbs: ["get", "list", "watch", "create", "delete"]
{{- end }}
{{- end }}
