#!/usr/bin/env bash
# Estimated vs ground-truth flow (issue #12 item 1, docs/training.md "Estimated flow"): train
# the same recipe with the same budget on the built-in simulator with its ground-truth flow,
# with flow estimated from the frames, and without the temporal loss (the floor), then score
# every model's warping error with GROUND-TRUTH flow and mask on held-out scenes.
#
#   STEPS=1000 OUT=runs/flow_experiment bash scripts/flow_experiment.sh
#
# Environment (defaults = the run reported in docs/training.md):
#   STEPS      training steps per model                                 default 1000
#   SIZE       simulated training frame side                            default 64
#   CROP       training crop side                                       default 48
#   BATCH      batch size                                               default 4
#   SEEDS      training seeds (each run is trained once per seed)       default "0 1 2"
#              (docs/training.md: "0 1 2 3 4 5 6 7 8 9")
#   SIZES      frame sides the warping error is measured at             default "$SIZE 256"
#   TEST       held-out TEST scenes x frames for the measurement        default "8 16"
#   THREADS    torch threads                                            default 1
#   OUT        runs, recipes, caches and the result                     default runs/flow_experiment
#   ONLY       subset of: gt estimated estimated_dis no_temporal      default all four
#   EXTRA      more `--set KEY=VALUE` arguments for every run (word-split; e.g. a smoke test's
#              "--set loss.segmenter_steps=5")                         default none
# Runs are:
#   gt             rt recipe, the simulator's ground-truth flow + occlusion mask (flow: gt)
#   estimated      the same, flow estimated from the frames as for a recording with depth,
#                  camera_info and /tf (flow: estimate; DIS + FB check fused with depth/pose flow)
#   estimated_dis  the same, images only (flow_method: dis), as for a recording without depth
#   no_temporal    the same with loss.temporal=0 (and no flow): the temporal loss's floor
# One process at a time under `nice -n 10`; a run whose last checkpoint exists is not
# retrained; the rt recipe is resolved once into OUT/recipes/ so every run trains from it.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-1000}
SIZE=${SIZE:-64}
CROP=${CROP:-48}
BATCH=${BATCH:-4}
SEEDS=${SEEDS:-"0 1 2"}
SIZES=${SIZES:-"$SIZE 256"}
TEST=${TEST:-"8 16"}
THREADS=${THREADS:-1}
OUT=${OUT:-runs/flow_experiment}
ONLY=${ONLY:-gt estimated estimated_dis no_temporal}
read -r -a EXTRA_ARGS <<< "${EXTRA:-}"
BIN=.venv/bin/sim2real-gan
read -r TEST_SEQS TEST_FRAMES <<< "$TEST"

# Training data as in scripts/eval_protocol.sh: simulator seeds 0-7 (sim look) and 100-107
# (real look, other scenes), 16 frames each; evaluation scenes are seeds >= 1,000,000.
sim() {  # data.sim with flow setting $1
  echo "data.sim={kind: synthetic, appearance: sim, seeds: [0,1,2,3,4,5,6,7], frames: 16, width: $SIZE, height: $SIZE, cache: $OUT/cache, $1}"
}
COMMON=(
  --set "data.real={kind: synthetic, appearance: real, seeds: [100,101,102,103,104,105,106,107], frames: 16, width: $SIZE, height: $SIZE, cache: $OUT/cache}"
  --set "data.crop=[$CROP,$CROP]" --set "data.batch_size=$BATCH"
  --set "steps=$STEPS" --set "threads=$THREADS" --set "progress=false"
  --set "log_every=100" --set "image_every=100000" --set "ckpt_every=$STEPS" --set "keep_ckpts=1"
)

recipe() {  # RECIPE (overrides) of run $1
  case "$1" in
    gt)            RECIPE=(--set "$(sim 'flow: gt')") ;;
    estimated)     RECIPE=(--set "$(sim 'flow: estimate, flow_method: fused')") ;;
    estimated_dis) RECIPE=(--set "$(sim 'flow: estimate, flow_method: dis')") ;;
    no_temporal)   RECIPE=(--set "$(sim 'flow: off')" --set loss.temporal=0) ;;
    *) echo "unknown run $1 (expected gt, estimated, estimated_dis, no_temporal)" >&2; exit 2 ;;
  esac
}

mkdir -p "$OUT/recipes"
if [[ ! -f "$OUT/recipes/rt.yaml" ]]; then
  "$BIN" train -c rt --print-config > "$OUT/recipes/rt.yaml.tmp"
  mv "$OUT/recipes/rt.yaml.tmp" "$OUT/recipes/rt.yaml"
fi

models=()
for seed in $SEEDS; do
  for name in $ONLY; do
    run="$OUT/$name-seed$seed"
    if [[ -d "$run/checkpoints/step_$(printf %07d "$STEPS")" ]]; then
      echo "== $name seed $seed: already trained"
    else
      recipe "$name"
      echo "== training $name seed $seed ($STEPS steps, batch $BATCH, crop $CROP of ${SIZE}px)"
      start=$SECONDS
      nice -n 10 "$BIN" train -c "$OUT/recipes/rt.yaml" --out "$run" "${COMMON[@]}" \
        --set "seed=$seed" "${RECIPE[@]}" ${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}
      echo "== $name seed $seed trained in $((SECONDS - start)) s"
    fi
    models+=(--model "$name-seed$seed=$run")
  done
done

echo "== warping error with ground-truth flow at ${SIZES// /, } px"
# shellcheck disable=SC2086
nice -n 10 .venv/bin/python -m training.flow_experiment "${models[@]}" --sizes $SIZES \
  --sequences "$TEST_SEQS" --frames "$TEST_FRAMES" --threads "$THREADS" \
  --json "$OUT/warping_error.json" | tee "$OUT/warping_error.md"
