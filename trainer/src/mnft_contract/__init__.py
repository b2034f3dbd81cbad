"""The contract between the operator (`mnft_operator`) and the trainer (`mnft_trainer`), defined once.

Standard library only, imported by both sides (and shipped in both images):

- `env`: the names of the pod and process environment, with their meaning;
- `exit_codes`: what the trainer and `mnft launch` exit with, and what the operator retries;
- `hyperparameters`: the recipe keys (camelCase CRD field, r1.2 snake_case trainer key, type, bounds,
  per-platform defaults), from which the CRD schema and CEL rules are generated;
- `termination`: the termination message (path, writer, reader, format);
- `rank_table`: the HCCL rank table's format (file, statuses, version, keys).
"""
