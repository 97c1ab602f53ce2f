#!/usr/bin/env bash
# The stereo-loss experiment of docs/stereo.md ("Training with a cross-view consistency
# loss"): the rt recipe on the simulator's stereo scope, with and without loss.stereo, one
# equal budget (same data, crops, steps, seed; semantic loss off in both to keep it short),
# then both evaluated with `sim2real-gan evaluate --stereo`.
#
#   OUT=runs STEPS=400 bash scripts/stereo_ab.sh
#
# Environment: OUT (default runs), STEPS (default 400), ONLY (subset of: no_stereo stereo).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs}
STEPS=${STEPS:-400}
COMMON=(
  --set "data.sim={kind: synthetic, appearance: sim, seeds: [0,1,2,3,4,5,6,7], frames: 12, width: 256, height: 256, stereo: true, cache: $OUT/cache}"
  --set "data.real={kind: synthetic, appearance: real, seeds: [100,101,102,103,104,105,106,107], frames: 12, width: 256, height: 256, cache: $OUT/cache}"
  --set "data.crop=[96,96]" --set data.batch_size=1 --set "steps=$STEPS" --set seed=0 --set threads=1
  --set progress=false --set log_every=50 --set image_every=100000 --set "ckpt_every=$STEPS"
  --set keep_ckpts=1 --set loss.semantic=0
)
for run in ${ONLY:-no_stereo stereo}; do
  case $run in
    no_stereo) extra=(--set loss.stereo=0) ;;
    stereo) extra=(--set loss.stereo=10) ;;
    *) echo "unknown run $run" >&2; exit 2 ;;
  esac
  if [[ -d "$OUT/ab_$run/checkpoints" ]]; then echo "== $run: already trained"; continue; fi
  echo "== $run start $(date +%T)"
  nice -n 5 .venv/bin/sim2real-gan train -c rt --out "$OUT/ab_$run" "${COMMON[@]}" "${extra[@]}"
  echo "== $run end $(date +%T)"
done
nice -n 5 .venv/bin/sim2real-gan evaluate --stereo --threads 1 --out "$OUT/stereo_ab_report" \
  --force --model "no_stereo=$OUT/ab_no_stereo" --model "stereo=$OUT/ab_stereo" \
  --title "stereo loss: $STEPS steps, with and without"
