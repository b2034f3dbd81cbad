# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build --target operator -t mnft-operator:0.1.0 .
#   docker build --target trainer  -t mnft-trainer:0.1.0 .
# PYTHON_IMAGE is the base of the build and operator stages. TRAINER_BASE is the trainer's base: the
# default is the same slim Python with MindSpore's CPU wheel from PyPI. For Ascend or GPU nodes pass
# an image that already holds the device stack (CANN or CUDA) and Python 3.10/3.11 with pip, e.g.
#   docker build --target trainer --build-arg TRAINER_BASE=<your CANN 8.x image> -t mnft-trainer:0.1.0-ascend .
# The trainer's venv sees the base image's site-packages, so a base that already ships MindSpore
# 2.10.0 built for its device keeps it; otherwise pip installs the pinned CPU wheel from PyPI.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
ARG TRAINER_BASE=python:3.11.14-slim-bookworm

# ---- build: one virtualenv per image, so the runtime stages copy files and run no compilers ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY operator/src operator/src
COPY trainer/src trainer/src
# The operator installs no extras: kopf, the kubernetes client and PyYAML only.
RUN python -m venv /opt/operator \
    && /opt/operator/bin/pip install --no-cache-dir .

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
COPY pyproject.toml README.md ./
COPY operator/src operator/src
COPY trainer/src trainer/src
# A virtualenv that sees the base's site-packages, so a device base image's own MindSpore build
# (Ascend/GPU) satisfies the pin instead of being replaced by the CPU wheel. The demo extra
# (scikit-learn) lets `mnft demo-data` write the README's first dataset inside the cluster.
RUN python -m venv --system-site-packages /opt/trainer \
    && /opt/trainer/bin/pip install --no-cache-dir ".[trainer,cpu-engine,demo]" \
    && rm -rf /src \
    && mkdir -p /workspace \
    && chown 65532:65532 /workspace
ENV PATH=/opt/trainer/bin:$PATH
WORKDIR /workspace
USER 65532:65532
ENTRYPOINT ["mnft"]
CMD ["launch", "train"]
