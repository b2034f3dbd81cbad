{{/*
The operator's permissions: exactly the table "Operator RBAC" in docs/architecture.md (kopf included).
clusterRules: cluster-scoped reads (nodes: the node of a pod stuck terminating); kopf lists namespaces
only when it watches listed namespaces.
namespacedRules: the jobs and what the operator creates for them (children are removed by the garbage
collector through ownerReferences, so services and configmaps need no delete). The children's
ownerReferences set blockOwnerDeletion, which the OwnerReferencesPermissionEnforcement admission plugin
(on by default in OpenShift) allows only to whoever may update the owner's finalizers subresource.
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
- apiGroups: ["finetune.mindspore.io"]
  resources: ["mobilenetfinetunes/finalizers"]
  verbs: ["update"]
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
{{- if .Values.rbac.kubernetesPodGroups }}
- apiGroups: ["scheduling.k8s.io"]
  resources: ["podgroups"]
  verbs: ["list", "create", "delete"]
{{- end }}
{{- if .Values.rbac.kueue }}
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["patch"]
{{- end }}
{{- end }}
