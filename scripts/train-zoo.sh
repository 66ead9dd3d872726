#!/usr/bin/env bash
# Trains the zoo's models on T91 + BSD200 and stores the metrics `rtsr eval` measures in each model file.
# Usage: scripts/train-zoo.sh DATA_DIR [NAME…]   (e.g. ../shared/datasets wdsr-b-x2); an interrupted run resumes.
# Each model takes 30–90 min of both cores; run at `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/train-zoo.sh DATA_DIR [NAME…]}
shift
RTSR="node dist/src/cli/main.js"
source scripts/lib/train-or-resume.sh
X2_STEPS=60000 # the ×2 WDSR-B and its ESPCN / FSRCNN baselines train for the same steps on the same data

declare -A ARCH SCALE STEPS
ARCH[wdsr-b-x2]='{"arch":"wdsr-b","channels":16,"blocks":[{"m1":64,"m2":16},{"m1":64,"m2":16},{"m1":64,"m2":16}]}'
SCALE[wdsr-b-x2]=2; STEPS[wdsr-b-x2]=$X2_STEPS
ARCH[espcn-x2]=espcn; SCALE[espcn-x2]=2; STEPS[espcn-x2]=$X2_STEPS
ARCH[fsrcnn-d2s-x2]=fsrcnn-d2s; SCALE[fsrcnn-d2s-x2]=2; STEPS[fsrcnn-d2s-x2]=$X2_STEPS
ARCH[wdsr-b-x4]='{"arch":"wdsr-b","channels":24,"blocks":[{"m1":96,"m2":24},{"m1":96,"m2":24},{"m1":96,"m2":24}]}'
SCALE[wdsr-b-x4]=4; STEPS[wdsr-b-x4]=30000

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(wdsr-b-x2 espcn-x2 fsrcnn-d2s-x2 wdsr-b-x4)
npm run --silent build
for name in "${names[@]}"; do
  [ -n "${ARCH[$name]:-}" ] || { echo "unknown zoo model '$name' (known: ${!ARCH[*]})" >&2; exit 2; }
  out="runs/$name"
  train_or_resume "$out" "$DATA" "${ARCH[$name]}" "${SCALE[$name]}" "${STEPS[$name]}"
  mkdir -p zoo
  cp "$out/model.rtsr" "zoo/$name.rtsr"
  $RTSR eval --model "zoo/$name.rtsr" --data "$DATA" --save-metrics
done
$RTSR zoo
