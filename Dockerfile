# syntax=docker/dockerfile:1
# flowreid: `flowprep` and `reid` in one image; run either as the command:
#   docker build -t flowreid:gpu .                                  (CUDA; PyTorch comes with the base image)
#   docker build --build-arg VARIANT=cpu -t flowreid:cpu .          (CPU-only PyTorch on Debian slim)
#   (build args: GPU_BASE, CPU_BASE, TORCH_INDEX, TORCH_VERSION; pipelines/cluster/local-image.sh builds
#   the CPU variant with podman, offline, on a base image made with debootstrap)
#   docker run --rm --gpus all -v /srv/datasets:/data:ro -v /srv/stores:/stores flowreid:gpu \
#       flowprep extract --dataset mars --out /stores/mars.h5
#   docker run --rm --gpus all --shm-size 8g -v /srv/stores:/stores:ro -v /srv/runs:/runs -v /srv/weights:/weights:ro \
#       flowreid:gpu reid train --store /stores/mars.h5 --out /runs/mars-mutual-attention
# Volumes: /data datasets ($REID_DATA), /stores HDF5 stores, /runs training runs, /weights weight files ($REID_WEIGHTS).
# See docs/cluster.md.

ARG VARIANT=gpu
ARG GPU_BASE=pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime
ARG CPU_BASE=python:3.11-slim-bookworm

FROM ${GPU_BASE} AS gpu-torch

FROM ${CPU_BASE} AS cpu-torch
ARG TORCH_VERSION=2.13.0
# the CPU wheel index holds torch and its own dependencies; everything else comes from PyPI below.
# TORCH_INDEX= (empty) takes torch from pip's own index (PyPI: the CUDA build, gigabytes) or from the
# folders and indexes of a pip configuration mounted into the build and named by PIP_CONFIG_FILE
# (pipelines/cluster/local-image.sh builds offline that way)
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG PIP_CONFIG_FILE
RUN pip install --no-cache-dir ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} "torch==${TORCH_VERSION}"

FROM ${VARIANT}-torch AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="flowreid" \
      org.opencontainers.image.description="Video person re-identification with optical flow: flowprep (flow extraction to HDF5) and reid (training, evaluation)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT"

# torch is already in the base, so pip keeps it and installs only the other requirements
ARG PIP_CONFIG_FILE
RUN --mount=type=bind,source=.,target=/src,rw \
    pip install --no-cache-dir /src \
    && python -c "import torch, cv2, h5py, flowprep, reid"

# a uid above the range that base images hand out (Ubuntu 24.04 images already have a user 1000)
RUN groupadd --gid 10001 reid \
    && useradd --no-log-init --create-home --uid 10001 --gid 10001 --shell /bin/bash reid \
    && mkdir -p /data /stores /runs /weights /work \
    && chown reid:reid /data /stores /runs /weights /work

ENV REID_DATA=/data \
    REID_WEIGHTS=/weights \
    PYTHONUNBUFFERED=1
VOLUME ["/data", "/stores", "/runs", "/weights"]
USER 10001:10001
WORKDIR /work
CMD ["reid", "--help"]
