#!/usr/bin/env bash
# Issue #21's long runs, in the order they depend on each other: the distillation teachers (large WDSR-B, kept
# in the zoo), the recipe ablation on a fixed inference graph (searched-x2-33ms's architecture, trained from
# scratch, one ingredient per row), and the zoo models trained with the recipe (the searched networks' weights
# and architecture, so their deployed shapes and speed are those of searched-x2-33ms / searched-x4-33ms).
# Every run resumes where it stopped: run the same command again. Metrics go into each model file
# (`rtsr eval --save-metrics`, all four benchmark sets).
#
# Usage: scripts/train-recipe.sh DATA_DIR [PART…]   (e.g. ../shared/datasets teacher-x2 ablation-x2:ema)
# Parts: teacher-x2 teacher-x4 ablation-x2 (every row) ablation-x2:ROW zoo-x2 zoo-x4 scratch-x2 luma-x2 luma-x4
# deep-luma-x2 deep-luma-x4 deep9-luma-x4 ft-deep-luma-x4 ft-deep9-luma-x4 grow-deep-luma-x4 ft-grow-deep-luma-x4
# table; default: all but the zoo models, whose recipe (RECIPE, default full) should follow what the
# ablation measured (zoo/searched-x2-33ms-luma.rtsr: RECIPE=reparam).
# scratch-x2: searched-x2-33ms's architecture from scratch with RECIPE for ZOO_STEPS_X2 (no teacher), evaluated
# in runs/recipe/scratch-x2: whether the branches do more from the start than added to trained weights.
# luma-x2, luma-x4: the searched architectures with a luminance body (wdsr-b `luma`: Y in, Y residual out, colour
# from the linear skip; compiled to the same RGB convs) trained from scratch with RECIPE for ZOO_STEPS_Xs, into
# zoo/searched-xS-33ms-luma.rtsr, benched beside searched-xS-33ms. deep-luma-x2: the same for DEEP_X2_ARCH, into
# runs/recipe/deep-luma-x2 and zoo/wdsr-b-5x8-luma-x2.rtsr; deep-luma-x4: DEEP_X4_ARCH for DEEP_STEPS_X4, into
# runs/recipe/deep-luma-x4 and zoo/wdsr-b-8x14-luma-x4.rtsr; deep9-luma-x4: DEEP9_X4_ARCH the same way, into
# runs/recipe/deep9-luma-x4 and zoo/wdsr-b-9x14-scratch-luma-x4.rtsr. ft-RUN: FT_STEPS more steps from
# runs/recipe/RUN's model with the finetune-shifts recipe (its images also at the scale's other phases and
# downscaled by 0.9–0.6, a weight average) at lr 2.5e-4 and 48×48 patches, into runs/recipe/ft-RUN and RUN's zoo
# file. grow-deep-luma-x4: deep-luma-x4's model grown by a ninth block {64, 16} that starts as the identity
# (scripts/grow-block.mjs), GROW_STEPS with finetune-shifts at lr 5e-4, into runs/recipe/grow-deep-luma-x4 and
# zoo/wdsr-b-9x14-luma-x4.rtsr (then ft-grow-deep-luma-x4).
# Rows: baseline no-augment ema reparam patch-late l2-finetune charbonnier ycbcr downscale distill full full-distill reparam-luma
# (reparam with a luminance body).
# Lengths (env): TEACHER_STEPS (60000), ABLATION_STEPS (60000, as the zoo's ×2 models), ZOO_STEPS_X2 (200000),
# ZOO_STEPS_X4 (60000), DEEP_STEPS_X4 (200000, as ×2), FT_STEPS (8000), GROW_STEPS (40000); TEACHER_ARCH (wdsr-b-8x32: 149 K MACs per LR pixel, 12× the ×2 student's); RECIPE;
# DISTILL (1; 0: the zoo models train without a teacher, into runs/recipe/zoo-xS-nodistill).
# The `distill` rows and the zoo models (unless DISTILL=0) need their scale's teacher part to have run.
# Durations on the 2-core AMD EPYC (Zen 5) of docs/training.md: see "The recipe" there.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/train-recipe.sh DATA_DIR [PART…]}
shift
RTSR="node dist/src/cli/main.js"
source scripts/lib/train-or-resume.sh
TEACHER_ARCH=${TEACHER_ARCH:-wdsr-b-8x32}
TEACHER_STEPS=${TEACHER_STEPS:-60000}
ABLATION_STEPS=${ABLATION_STEPS:-60000}
ZOO_STEPS_X2=${ZOO_STEPS_X2:-200000}
ZOO_STEPS_X4=${ZOO_STEPS_X4:-60000}
DEEP_STEPS_X4=${DEEP_STEPS_X4:-200000}
FT_STEPS=${FT_STEPS:-8000}
GROW_STEPS=${GROW_STEPS:-40000}
RECIPE=${RECIPE:-full}
DISTILL=${DISTILL:-1}
# searched-x2-33ms's architecture (2.77 GMACs at 720p): the inference graph every ablation row shares.
X2_ARCH='{"arch":"wdsr-b","channels":8,"blocks":[{"m1":124,"m2":8},{"m1":89,"m2":8},{"m1":144,"m2":20}]}'
# searched-x4-33ms's (3.07 GMACs at 720p).
X4_ARCH='{"arch":"wdsr-b","channels":17,"blocks":[{"m1":144,"m2":20},{"m1":144,"m2":20},{"m1":144,"m2":20},{"m1":144,"m2":20},{"m1":144,"m2":20}]}'
# Five equal blocks at C 8 (11 580 MACs per LR pixel, 96 % of X2_ARCH's; measured no slower beside it): deeper,
# a wider receptive field for the same time.
DEEP_X2_ARCH='{"arch":"wdsr-b","channels":8,"blocks":[{"m1":84,"m2":8},{"m1":84,"m2":8},{"m1":84,"m2":8},{"m1":84,"m2":8},{"m1":84,"m2":8}]}'
# Eight equal blocks at C 14 (51 114 MACs per LR pixel, 96 % of X4_ARCH's 53 343; 28.7 against 29.4 ms in the same
# bench rounds at 320×180, Zen 4).
DEEP_X4_ARCH='{"arch":"wdsr-b","channels":14,"blocks":[{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16},{"m1":104,"m2":16}]}'
# Nine blocks at C 14, M1 100 (55 170 MACs per LR pixel with an RGB tail, 51 138 and 2.95 GMACs at 720p as deployed; 28.7
# against 29.4 ms in the same bench rounds at 320×180, Zen 4): the frame time the luminance tail frees, spent on depth.
DEEP9_X4_ARCH='{"arch":"wdsr-b","channels":14,"blocks":[{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16},{"m1":100,"m2":16}]}'
luma() { echo "${1%\}},\"luma\":true}"; }
ROWS=(baseline no-augment ema reparam patch-late l2-finetune charbonnier ycbcr downscale distill full full-distill reparam-luma)

# The four sets, and the held-out drawn images (scripts/drawn-set.mjs, from Debian's openclipart-svg) where installed.
DRAWN=${DRAWN:-runs/drawn}
evaluate() {
  $RTSR eval --model "$1" --data "$DATA" --save-metrics
  if [ -d /usr/share/openclipart/svg ]; then
    [ -d "$DRAWN/Drawn/HR" ] || node scripts/drawn-set.mjs "$DRAWN"
    $RTSR eval --model "$1" --data "$DRAWN" --sets Drawn --save-metrics
  fi
}
need_teacher() {
  [ -f "zoo/wdsr-b-teacher-x$1.rtsr" ] || { echo "zoo/wdsr-b-teacher-x$1.rtsr is missing: run the teacher-x$1 part first" >&2; exit 2; }
}

teacher() { # SCALE
  local out="runs/recipe/teacher-x$1"
  run_training "$out" --arch "$TEACHER_ARCH" --scale "$1" --data "$DATA" --steps "$TEACHER_STEPS" --recipe ema
  cp "$out/model.rtsr" "zoo/wdsr-b-teacher-x$1.rtsr"
  evaluate "zoo/wdsr-b-teacher-x$1.rtsr"
}

ablation_row() { # ROW
  local row=$1 recipe=$1 arch=$X2_ARCH extra=()
  case "$row" in
    distill) recipe=baseline ;;
    full-distill) recipe=full ;;
    reparam-luma) recipe=reparam arch=$(luma "$X2_ARCH") ;;
  esac
  if [[ "$row" == *distill ]]; then
    need_teacher 2
    extra=(--teacher zoo/wdsr-b-teacher-x2.rtsr)
  fi
  local out="runs/recipe/ablation-x2/$row"
  run_training "$out" --arch "$arch" --scale 2 --data "$DATA" --steps "$ABLATION_STEPS" --recipe "$recipe" "${extra[@]}"
  evaluate "$out/model.rtsr"
}

scratch_x2() {
  local out="runs/recipe/scratch-x2"
  run_training "$out" --arch "$X2_ARCH" --scale 2 --data "$DATA" --steps "$ZOO_STEPS_X2" --recipe "$RECIPE"
  evaluate "$out/model.rtsr"
}

# keep_in_zoo SCALE OUT NAME: a finished run's model as zoo/NAME.rtsr, scored, and timed beside searched-xS-33ms in
# the same rounds.
keep_in_zoo() {
  cp "$2/model.rtsr" "zoo/$3.rtsr"
  evaluate "zoo/$3.rtsr"
  $RTSR bench --model "searched-x$1-33ms" --model "$3" --input "$((1280 / $1))x$((720 / $1))"
}

luma_model() { # SCALE ARCH STEPS [RUN NAME]
  local out="runs/recipe/${4:-luma-x$1}"
  run_training "$out" --arch "$(luma "$2")" --scale "$1" --data "$DATA" --steps "$3" --recipe "$RECIPE"
  keep_in_zoo "$1" "$out" "${5:-searched-x$1-33ms-luma}"
}

finetune_model() { # SCALE RUN NAME
  local from="runs/recipe/$2/model.rtsr" out="runs/recipe/ft-$2"
  [ -f "$from" ] || { echo "$from is missing: run the $2 part first" >&2; exit 2; }
  run_training "$out" --init "$from" --data "$DATA" --steps "$FT_STEPS" --lr 2.5e-4 --patch 48 --recipe finetune-shifts
  keep_in_zoo "$1" "$out" "$3"
}

grown_model() { # SCALE RUN AT M1 M2 NAME
  local from="runs/recipe/$2/model.rtsr" out="runs/recipe/grow-$2"
  [ -f "$from" ] || { echo "$from is missing: run the $2 part first" >&2; exit 2; }
  mkdir -p "$out"
  [ -f "$out/grown.rtsr" ] || node scripts/grow-block.mjs "$from" "$out/grown.rtsr" "$3" "$4" "$5"
  run_training "$out" --init "$out/grown.rtsr" --data "$DATA" --steps "$GROW_STEPS" --lr 5e-4 --patch 48 --recipe finetune-shifts
  keep_in_zoo "$1" "$out" "$6"
}

zoo_model() { # SCALE STEPS
  local out="runs/recipe/zoo-x$1" extra=()
  if [ "$DISTILL" = 0 ]; then
    out+=-nodistill
  else
    need_teacher "$1"
    extra=(--teacher "zoo/wdsr-b-teacher-x$1.rtsr")
  fi
  run_training "$out" --init "searched-x$1-33ms" --data "$DATA" --steps "$2" --recipe "$RECIPE" "${extra[@]}"
  # Same deployed convs as the searched model: the same time, measured in the same rounds.
  keep_in_zoo "$1" "$out" "searched-x$1-33ms-recipe"
}

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(teacher-x2 teacher-x4 ablation-x2 table)
# A second shell running other parts beside the first skips the build (SKIP_BUILD=1): dist is in use.
[ -n "${SKIP_BUILD:-}" ] || npm run --silent build
for part in "${parts[@]}"; do
  case "$part" in
    teacher-x2) teacher 2 ;;
    teacher-x4) teacher 4 ;;
    ablation-x2) for row in "${ROWS[@]}"; do ablation_row "$row"; done ;;
    ablation-x2:*)
      row=${part#ablation-x2:}
      [[ " ${ROWS[*]} " == *" $row "* ]] || { echo "unknown ablation row '$row' (rows: ${ROWS[*]})" >&2; exit 2; }
      ablation_row "$row"
      ;;
    zoo-x2) zoo_model 2 "$ZOO_STEPS_X2" ;;
    zoo-x4) zoo_model 4 "$ZOO_STEPS_X4" ;;
    scratch-x2) scratch_x2 ;;
    luma-x2) luma_model 2 "$X2_ARCH" "$ZOO_STEPS_X2" ;;
    luma-x4) luma_model 4 "$X4_ARCH" "$ZOO_STEPS_X4" ;;
    deep-luma-x2) luma_model 2 "$DEEP_X2_ARCH" "$ZOO_STEPS_X2" deep-luma-x2 wdsr-b-5x8-luma-x2 ;;
    deep-luma-x4) luma_model 4 "$DEEP_X4_ARCH" "$DEEP_STEPS_X4" deep-luma-x4 wdsr-b-8x14-luma-x4 ;;
    deep9-luma-x4) luma_model 4 "$DEEP9_X4_ARCH" "$DEEP_STEPS_X4" deep9-luma-x4 wdsr-b-9x14-scratch-luma-x4 ;;
    ft-deep-luma-x4) finetune_model 4 deep-luma-x4 wdsr-b-8x14-luma-x4 ;;
    ft-deep9-luma-x4) finetune_model 4 deep9-luma-x4 wdsr-b-9x14-scratch-luma-x4 ;;
    grow-deep-luma-x4) grown_model 4 deep-luma-x4 8 64 16 wdsr-b-9x14-luma-x4 ;;
    ft-grow-deep-luma-x4) finetune_model 4 grow-deep-luma-x4 wdsr-b-9x14-luma-x4 ;;
    table) node scripts/ablation-table.mjs runs/recipe/ablation-x2 "${ROWS[@]}" ;;
    *) echo "unknown part '$part' (parts: teacher-x2 teacher-x4 ablation-x2 ablation-x2:ROW zoo-x2 zoo-x4 scratch-x2 luma-x2 luma-x4 deep-luma-x2 deep-luma-x4 deep9-luma-x4 ft-deep-luma-x4 ft-deep9-luma-x4 grow-deep-luma-x4 ft-grow-deep-luma-x4 table)" >&2; exit 2 ;;
  esac
done
