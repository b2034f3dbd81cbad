{{/*
The operator's permissions: exactly the table "Operator RBAC" in docs/architecture.md (kopf included).
clusterRules: cluster-scoped reads (nodes: the node of a pod stuck terminating); kopf lists namespaces
only when it watches listed namespaces.
namespacedRules: the jobs and what the operator creates for them (children are removed by the garbage
collector through ownerReferences, so services and configmaps need no delete).
*/}}
{{- define "mnft-operator.clusterRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  verbs: ["list", "watch"]
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["get"]
{{- if .Values.watchNamespaces }}
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
{{- end }}
{{- end }}

{{- define "mnft-operator.namespacedRules" -}}
- apiGroups: ["finetune.mindspore.io"]
  resources: ["mobilenetfinetunes"]
  verbs: ["get", "list", "watch", "patch", "delete"]
- apiGroups: ["finetune.mindspore.io"]
  resources: ["mobilenetfinetunes/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "watch", "create"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- if .Values.rbac.volcano }}
- apiGroups: ["scheduling.volcano.sh"]
  resources: ["podgroups"]
  verbs: ["list", "create"]
{{- end }}
{{- end }}
