#!/usr/bin/env bash
# The hand-designed baselines `rtsr search` is judged against: the largest ESPCN, FSRCNN-style and uniform WDSR-B
# (the seed's M1 = 6C, M2 = ⌊0.84C⌋) measured to meet 33 ms at 640×360 in the same `rtsr bench` rounds as the
# searched model (docs/search.md, "Baselines"), each trained on the search's data for the search's total steps
# (40 000), then measured beside the searched model.
# Usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]   (an interrupted run resumes)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]}
SEARCH=${2:?usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]}
shift 2
RTSR="node dist/src/cli/main.js"
source scripts/lib/train-or-resume.sh
STEPS=40000 # pretrain + width + joint + fine-tune of searchConfig (src/search/run.ts)

declare -A ARCH
ARCH[wdsr-b-3x13]=wdsr-b-3x13
# Deeper uniform WDSR-Bs of the same measured time (4 × 11 32.0 ms, 5 × 10 31.8 where 3 × 13 read 32.2): the best depth.
ARCH[wdsr-b-4x11]=wdsr-b-4x11
ARCH[wdsr-b-5x10]=wdsr-b-5x10
ARCH[espcn-38-19]='{"arch":"espcn","f1":38,"f2":19}'
ARCH[fsrcnn-d2s-34-12-4]='{"arch":"fsrcnn-d2s","d":34,"s":12,"m":4}'

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${!ARCH[@]}")
npm run --silent build
models=()
for name in "${names[@]}"; do
  [ -n "${ARCH[$name]:-}" ] || { echo "unknown baseline '$name' (known: ${!ARCH[*]})" >&2; exit 2; }
  out="runs/baselines-x2/$name"
  train_or_resume "$out" "$DATA" "${ARCH[$name]}" 2 "$STEPS"
  $RTSR eval --model "$out/model.rtsr" --data "$DATA" --save-metrics
  models+=(--model "$out/model.rtsr")
done
$RTSR bench --model "$SEARCH/model.rtsr" "${models[@]}" --input 640x360 --budget-ms 33
