#!/usr/bin/env bash
# GPU readiness check (issue #13 item 6; docs/benchmarks.md "GPU check"): simulate data,
# train base_footage for a few hundred steps, export, check every backend against ONNX
# Runtime CPU, benchmark torch-CUDA (FP16, CUDA graphs) and ONNX Runtime CUDA at 512x512 and
# 1920x1080 beside the CycleGAN ResNet-9 eager FP32 baseline; one table, under 10 minutes.
#
# On a lent H100/H200 (device tool; the command runs in a copy of the repository root):
#   run(command="bash scripts/gpu_check.sh", carry=[".whl"], timeout_s=600)
#   .whl/ holds the wheels the machine lacks (bash scripts/gpu_wheels.sh fetches them here).
# Here, CPU only, tiny sizes, the same stages and table (measures nothing):
#   GPU_CHECK_DRY_RUN=1 bash scripts/gpu_check.sh
# Output: $OUT (the device tool's folder), else out/gpu_check: gpu_check.md (the report),
# gpu_check.json (all numbers), gpu_check.log (every stage's output), check.jpg.
set -uo pipefail
cd "$(dirname "$0")/.."
out_dir=${OUT:-out/gpu_check}
dry=${GPU_CHECK_DRY_RUN:-0}
py=${PYTHON:-}
if [ -z "$py" ]; then
  if [ -x .venv/bin/python ]; then py=.venv/bin/python; else py=python3; fi
fi
if [ "$dry" != 1 ]; then
  wheels=()
  for w in .whl/*.whl; do [ -e "$w" ] && wheels+=("$w"); done
  # Wheels over the 64 MiB a call carries arrive in parts over earlier calls of the same
  # warm machine (docs/benchmarks.md "GPU check"): NAME.whl.partNN + NAME.whl.sha256, kept
  # in /tmp/gpu_parts there; parts carried with this call in .whl/ join them.
  mkdir -p /tmp/gpu_whl /tmp/gpu_parts
  for f in .whl/*.whl.part* .whl/*.whl.sha256; do [ -e "$f" ] && cp "$f" /tmp/gpu_parts/; done
  for sum in /tmp/gpu_parts/*.whl.sha256; do
    [ -e "$sum" ] || continue
    whl=/tmp/gpu_whl/$(basename "${sum%.sha256}")
    cat "${sum%.sha256}".part* > "$whl"
    if [ "$(sha256sum "$whl" | cut -d' ' -f1)" = "$(cut -d' ' -f1 "$sum")" ]; then
      wheels+=("$whl")
    else
      echo "gpu_check: $(basename "$whl"): parts incomplete (sha256 differs); not installed"
    fi
  done
  if [ ${#wheels[@]} -gt 0 ]; then
    echo "gpu_check: installing ${wheels[*]}"
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site "${wheels[@]}" || { echo "gpu_check: wheel install failed"; exit 2; }
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
fi
# The project itself from this tree (no install needed there).
export PYTHONPATH=$PWD/ros2_ws/src/sim2real_gan:$PWD${PYTHONPATH:+:$PYTHONPATH}
export PYTHONUNBUFFERED=1
args=(--out "$out_dir")
[ "$dry" = 1 ] && args+=(--dry-run)
exec "$py" benchmarks/gpu_check.py "${args[@]}"
