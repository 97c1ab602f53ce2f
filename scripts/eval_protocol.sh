#!/usr/bin/env bash
# The evaluation protocol of docs/evaluation.md: train the CycleGAN baseline, ours and three
# ablations with one equal budget, then evaluate them all on the held-out simulator seeds.
#
#   STEPS=1500 OUT=runs/eval bash scripts/eval_protocol.sh
#
# Environment (defaults = the small CPU protocol reported in docs/evaluation.md):
#   STEPS      training steps per model (same for every model)      default 1500
#   BATCH      batch size                                            default 4
#   CROP       training crop side (frames are SIZE x SIZE)           default 48
#   SIZE       simulated training frame side                         default 64
#   OUT        where runs and the report go                          default runs/eval
#   THREADS    torch threads for training and evaluation             default 1 (fastest on a busy 2-core machine)
#   PROFILE    sim2real-gan evaluate --profile                       default small
#   ONLY       space-separated subset of: cyclegan ours no_temporal no_texture no_structure
#              no_semantic
# Runs one process at a time under `nice -n 10` (a shared 2-core machine); a finished run
# (checkpoints/step_<STEPS> present) is not retrained. The project recipes are resolved once
# into OUT/recipes/*.yaml and every run of this OUT trains from those copies, so a recipe
# edited while the protocol runs cannot give the runs different objectives.
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=${STEPS:-1500}
BATCH=${BATCH:-4}
CROP=${CROP:-48}
SIZE=${SIZE:-64}
OUT=${OUT:-runs/eval}
THREADS=${THREADS:-1}
PROFILE=${PROFILE:-small}
ONLY=${ONLY:-cyclegan ours no_temporal no_texture no_structure no_semantic}
BIN=.venv/bin/sim2real-gan

# Training data: simulator seeds 0-7 (sim) and 100-107 (real appearance, other scenes: the
# domains are unpaired). Evaluation seeds start at 1,000,000 (sim2real_gan/eval/data.py).
COMMON=(
  --set "data.sim={kind: synthetic, appearance: sim, seeds: [0,1,2,3,4,5,6,7], frames: 16, width: $SIZE, height: $SIZE}"
  --set "data.real={kind: synthetic, appearance: real, seeds: [100,101,102,103,104,105,106,107], frames: 16, width: $SIZE, height: $SIZE}"
  --set "data.crop=[$CROP,$CROP]" --set "data.batch_size=$BATCH"
  --set "steps=$STEPS" --set "seed=0" --set "threads=$THREADS" --set "progress=false"
  --set "log_every=100" --set "image_every=100000" --set "ckpt_every=$STEPS" --set "keep_ckpts=1"
)
# Each method keeps its project recipe (training/configs/rt.yaml, cyclegan.yaml: losses,
# discriminator, optimiser); COMMON makes data, crops, batch, steps and seed identical.
# Ours: the rt recipe plus the neural texture sampled at the simulator's UV (structure,
# temporal and semantic losses on, as in rt.yaml). Each ablation switches exactly one of
# these off.
OURS_G="{preset: rt, overrides: {texture_channels: 8, aux_channels: [uv]}}"

recipe() {  # sets CONFIG and RECIPE (overrides) of run $1
  CONFIG=rt
  case "$1" in
    cyclegan)     CONFIG=cyclegan; RECIPE=(--set data.workers=0) ;;
    ours)         RECIPE=(--set "generator=$OURS_G") ;;
    no_temporal)  RECIPE=(--set "generator=$OURS_G" --set loss.temporal=0) ;;
    no_texture)   RECIPE=() ;;   # = the shipped default model's recipe (rt.yaml)
    no_structure) RECIPE=(--set "generator=$OURS_G" --set loss.structure=0) ;;
    no_semantic)  RECIPE=(--set "generator=$OURS_G" --set loss.semantic=0) ;;
    *) echo "unknown run $1" >&2; exit 2 ;;
  esac
}

mkdir -p "$OUT/recipes"
for base in rt cyclegan; do
  if [[ ! -f "$OUT/recipes/$base.yaml" ]]; then
    "$BIN" train -c "$base" --print-config > "$OUT/recipes/$base.yaml.tmp"
    mv "$OUT/recipes/$base.yaml.tmp" "$OUT/recipes/$base.yaml"
  fi
done

models=()
for name in $ONLY; do
  run="$OUT/$name"
  last="$run/checkpoints/step_$(printf %07d "$STEPS")"
  if [[ -d "$last" ]]; then
    echo "== $name: already trained ($last)"
  else
    echo "== training $name ($STEPS steps, batch $BATCH, crop $CROP)"
    recipe "$name"
    start=$SECONDS
    nice -n 10 "$BIN" train -c "$OUT/recipes/$CONFIG.yaml" --out "$run" "${COMMON[@]}" ${RECIPE[@]+"${RECIPE[@]}"}
    echo "== $name trained in $((SECONDS - start)) s"
  fi
  models+=(--model "$name=$run")
done

echo "== evaluating"
nice -n 10 "$BIN" evaluate --profile "$PROFILE" --threads "$THREADS" --out "$OUT/report" --force \
  --ours ours --baseline cyclegan "${models[@]}" \
  --title "sim2real_gan evaluation: $STEPS steps x batch $BATCH, ${CROP}px crops"
