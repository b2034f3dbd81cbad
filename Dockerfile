# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target operator -t mnft-operator:0.1.0 .
#   docker build --target trainer  -t mnft-trainer:0.1.0 .
# PYTHON_IMAGE is the base of the build and operator stages. TRAINER_BASE is the trainer's base: the
# default is the same slim Python with MindSpore's CPU wheel from PyPI. For Ascend or GPU nodes pass
# an image that already holds the device stack (CANN or CUDA) and Python 3.11 with pip, e.g.
#   docker build --target trainer --build-arg TRAINER_BASE=<your CANN 8.x image> -t mnft-trainer:0.1.0-ascend .
# The trainer's venv sees the base image's site-packages, so a base that already ships MindSpore
# 2.10.0 built for its device keeps it; otherwise pip installs the locked CPU wheel from PyPI.
#
# Supply chain: both bases are pinned by the digest of the multi-architecture index of
# python:3.11.14-slim-bookworm (the tag is kept for readers; the digest is what is pulled).
# Python packages come only from requirements/*.txt (`make lock`), installed with --require-hashes
# and --no-deps; mnft itself is built once into a wheel with the hash-locked setuptools.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
ARG TRAINER_BASE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# ---- build: mnft's wheel and the operator's virtualenv; the runtime stages copy files and run no compilers ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY requirements/ requirements/
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY operator/src operator/src
COPY schema/src schema/src
# trainer/src holds mnft_trainer and mnft_contract (the operator-trainer contract both images import).
COPY trainer/src trainer/src
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist .
# The operator installs no extras: kopf, the kubernetes client and PyYAML (and what they need) only.
RUN python -m venv /opt/operator \
    && /opt/operator/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements/operator.txt \
    && /opt/operator/bin/pip install --no-cache-dir --no-deps /dist/mnft-*.whl

# ---- operator: `mnft operator` (kopf), never imports MindSpore ----
FROM ${PYTHON_IMAGE} AS operator
LABEL org.opencontainers.image.title="mnft-operator" \
      org.opencontainers.image.description="Kubernetes operator for MindSpore MobileNetV2 fine-tuning" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /opt/operator /opt/operator
ENV PATH=/opt/operator/bin:$PATH \
    HOME=/tmp \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["mnft"]
CMD ["operator"]

# ---- trainer: `mnft launch train ...`, the command every worker pod runs ----
FROM ${TRAINER_BASE} AS trainer
LABEL org.opencontainers.image.title="mnft-trainer" \
      org.opencontainers.image.description="MindSpore MobileNetV2 fine-tuning trainer" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/workspace
WORKDIR /src
COPY requirements/trainer.txt ./
COPY --from=build /dist/ dist/
# A virtualenv that sees the base's site-packages: a locked requirement the base already satisfies
# (a device image's own MindSpore 2.10.0 build for Ascend/GPU) is kept, not replaced by the CPU
# wheel; every other one is installed from the lock, hash-checked. The demo extra (scikit-learn)
# lets `mnft demo-data` write the README's first dataset inside the cluster; plots (matplotlib) draws
# training.png and confusion.png; onnx (ONNX Runtime) runs the frozen backbone's extraction on CPU.
RUN python -m venv --system-site-packages /opt/trainer \
    && /opt/trainer/bin/pip install --no-cache-dir --require-hashes --no-deps -r trainer.txt \
    && /opt/trainer/bin/pip install --no-cache-dir --no-deps dist/mnft-*.whl \
    && rm -rf /src \
    && mkdir -p /workspace \
    && chown 65532:65532 /workspace
ENV PATH=/opt/trainer/bin:$PATH
WORKDIR /workspace
USER 65532:65532
ENTRYPOINT ["mnft"]
CMD ["launch", "train"]
