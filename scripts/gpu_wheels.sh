#!/usr/bin/env bash
# Fetch, HERE, the wheels the lent GPU machine lacks for scripts/gpu_check.sh (it has no
# network; its image already holds torch 2.11 + CUDA 13, onnxruntime (CPU), onnx, OpenCV,
# safetensors, PyYAML, tqdm, torchmetrics, tensorboard, pytest: docs/benchmarks.md "GPU check").
#   bash scripts/gpu_wheels.sh            # .whl/: rosbags and its needs, about 6 MB (carry it)
#   bash scripts/gpu_wheels.sh ort-gpu    # /tmp/gpu_parts_here/: onnxruntime-gpu 1.30.0 (CUDA 13,
#                                         # 247 MB) cut into 45 MiB parts + its sha256, for the
#                                         # part-by-part carry of docs/benchmarks.md (optional):
#                                         # one part at a time into .whl/, one call each
set -euo pipefail
cd "$(dirname "$0")/.."
platforms=(--only-binary=:all: --python-version 3.12 --implementation cp
           --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64
           --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
           --platform manylinux1_x86_64)
py=${PYTHON:-python3}
case "${1:-small}" in
  small)
    "$py" -m pip download --no-deps "${platforms[@]}" -d .whl \
      rosbags==0.11.9 apsw==3.54.1.0 backports.zstd==1.8.0 lz4==4.4.5 ruamel.yaml==0.19.1
    du -sh .whl ;;
  ort-gpu)
    dest=/tmp/gpu_parts_here
    mkdir -p "$dest"
    "$py" -m pip download --no-deps "${platforms[@]}" -d "$dest" onnxruntime-gpu==1.30.0
    whl=$(ls "$dest"/onnxruntime_gpu-1.30.0-*.whl)
    (cd "$dest" && sha256sum "$(basename "$whl")" > "$(basename "$whl").sha256" \
      && split -b 45M -d "$(basename "$whl")" "$(basename "$whl").part" && rm "$(basename "$whl")")
    ls -la "$dest" ;;
  *) echo "usage: bash scripts/gpu_wheels.sh [small|ort-gpu]" >&2; exit 2 ;;
esac
