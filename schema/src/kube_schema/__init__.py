"""Kubernetes object formats shared by the operator and the emulator, with no dependency beyond PyYAML.

- `structural`: one walker of an OpenAPI v3 structural schema (pruning, defaulting, validation);
  each side words the violations itself (`mnft_operator.schema_messages`,
  `kube_emulator.apiserver.openapi_schema`).
- `quantity`: resource quantities (`500m`, `4Gi`) parsed and printed as apimachinery does.
- `bounded_yaml`: a YAML loader refusing deep nesting and alias bombs while composing.

The operator may not import the emulator and the emulator may not import mnft, so what both need lives
here; this package imports neither.
"""
