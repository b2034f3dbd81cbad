#!/usr/bin/env bash
# `make demo`: the digits dataset, then three real 2-worker CPU jobs through `mnft local` (embedded
# Kubernetes API, local kubelet, the real operator): pre-train MobileNetV2 from scratch on the digits 0-4,
# then on the digits 5-9 train a head on that frozen backbone, and fine-tune the whole network from the
# same checkpoint; each is evaluated at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VENV:-.venv}/bin
demo=.demo
start=$SECONDS

# Fresh outputs each run: a job resumes from checkpoints it finds in its output directory.
rm -rf "$demo/pretrain" "$demo/finetune" "$demo/finetune-full"
mkdir -p "$demo/pretrain" "$demo/finetune" "$demo/finetune-full"

echo "== 1/4 writing the demo dataset (scikit-learn digits as PNG files) to $demo/data"
"$bin/mnft" demo-data --classes 0,1,2,3,4 --output "$demo/data/digits-0-4"
"$bin/mnft" demo-data --classes 5,6,7,8,9 --output "$demo/data/digits-5-9"

echo "== 2/4 pre-training from scratch on the digits 0-4 (2 CPU workers)"
"$bin/mnft" local manifests/examples/demo-pretrain.yaml \
  --mount mnft-demo-data="$demo/data" --mount mnft-demo-pretrain="$demo/pretrain"

echo "== 3/4 training a head on the digits 5-9, backbone frozen from step 2 (2 CPU workers)"
"$bin/mnft" local manifests/examples/demo-finetune.yaml \
  --mount mnft-demo-data="$demo/data" --mount mnft-demo-pretrain="$demo/pretrain" \
  --mount mnft-demo-finetune="$demo/finetune"

echo "== 4/4 fine-tuning every layer on the digits 5-9 from step 2's checkpoint (2 CPU workers)"
"$bin/mnft" local manifests/examples/demo-finetune-full.yaml \
  --mount mnft-demo-data="$demo/data" --mount mnft-demo-pretrain="$demo/pretrain" \
  --mount mnft-demo-finetune-full="$demo/finetune-full"

"$bin/python" - "$demo" "$((SECONDS - start))" <<'PY'
import json, sys
demo, seconds = sys.argv[1], sys.argv[2]
jobs = (
    ("pretrain", "digits 0-4, from scratch"),
    ("finetune", "digits 5-9, head on the frozen backbone"),
    ("finetune-full", "digits 5-9, every layer fine-tuned"),
)
for name, what in jobs:
    summary = json.load(open(f"{demo}/{name}/checkpoint/summary.json"))
    acc = summary.get("accuracy")
    shown = "n/a" if acc is None else f"{acc:.3f}"
    print(f"demo: {name:<13} eval accuracy {shown} ({what}; chance 0.200)")
print(f"demo: done in {seconds} s; checkpoints under {demo}/pretrain, {demo}/finetune, {demo}/finetune-full")
PY
