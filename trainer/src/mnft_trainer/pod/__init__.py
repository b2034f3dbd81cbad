"""What runs in a pod around the recipe, standard library only (no MindSpore, numpy or YAML): `mnft launch`
(`launch`: one process per device from the operator's env), the supervision of those processes
(`supervise`), reading and waiting for the rank table (`rank_table`) and the `fetch-checkpoint` init
container (`fetch`). The recipe (`mnft_trainer.cli`, `run`, ...) runs in the processes launch starts.
"""
