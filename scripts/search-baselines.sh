#!/usr/bin/env bash
# The hand-designed baselines `rtsr search` is judged against: the largest ESPCN, FSRCNN-style and uniform WDSR-B
# (the seed's M1 = 6C, M2 = ⌊0.84C⌋) measured to meet 33 ms in the same `rtsr bench` rounds as the searched model
# (docs/search.md, "Baselines"), each trained on the search's data for the search's total steps (40 000), then
# measured beside the searched model. Scale, input size and the machine come from SEARCH_DIR/report.json: the
# sizes are those measured on the search's machine kind (CPU family), where sized.
# Usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]   (an interrupted run resumes)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]}
SEARCH=${2:?usage: scripts/search-baselines.sh DATA_DIR SEARCH_DIR [NAME…]}
shift 2
RTSR="node dist/src/cli/main.js"
source scripts/lib/train-or-resume.sh
STEPS=40000 # pretrain + width + joint + fine-tune of searchConfig (src/search/run.ts)
read -r SCALE INPUT FAMILY < <(node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.architecture.scale, r.input, /family (\d+)/.exec(r.machine?.cpu ?? "")?.[1] ?? "any")' "$SEARCH/report.json")

declare -A ARCH2 ARCH4 ARCH2_26
# ×2 at 640×360 on a Zen 5 (family 26), beside runs/search-x2-33ms-zen5 (30.7 ms in the same rounds): 5 × 16 read
# 30.3 ms, 4 × 18 31.2 (3 × 20 28.5, 4 × 17 28.2, 5 × 15 27.6).
ARCH2_26[wdsr-b-5x16]=wdsr-b-5x16
ARCH2_26[wdsr-b-4x18]=wdsr-b-4x18
# The Zen 4's (AMD EPYC family 25) and any other machine's: ×2 at 640×360: 3 × 13 read 32.2 ms, the deeper 4 × 11 32.0 and 5 × 10 31.8 (the best depth).
ARCH2[wdsr-b-3x13]=wdsr-b-3x13
ARCH2[wdsr-b-4x11]=wdsr-b-4x11
ARCH2[wdsr-b-5x10]=wdsr-b-5x10
ARCH2[espcn-38-19]='{"arch":"espcn","f1":38,"f2":19}'
ARCH2[fsrcnn-d2s-34-12-4]='{"arch":"fsrcnn-d2s","d":34,"s":12,"m":4}'
# ×4 at 320×180: 5 × 21 read 32.5–32.8 ms, 3 × 25 32.8, 4 × 22 31.9 (4 × 23 and 3 × 26 34.5: over).
ARCH4[wdsr-b-5x21]=wdsr-b-5x21
ARCH4[wdsr-b-3x25]=wdsr-b-3x25
TABLE="ARCH${SCALE}_$FAMILY"
declare -p "$TABLE" >/dev/null 2>&1 || TABLE="ARCH$SCALE"
declare -p "$TABLE" >/dev/null 2>&1 || { echo "no ×$SCALE baselines sized yet (scales: 2, 4)" >&2; exit 2; }
declare -n ARCH="$TABLE"

names=("$@")
[ ${#names[@]} -gt 0 ] || names=("${!ARCH[@]}")
npm run --silent build
models=()
for name in "${names[@]}"; do
  [ -n "${ARCH[$name]:-}" ] || { echo "unknown ×$SCALE baseline '$name' (known: ${!ARCH[*]})" >&2; exit 2; }
  out="runs/baselines-x$SCALE/$name"
  train_or_resume "$out" "$DATA" "${ARCH[$name]}" "$SCALE" "$STEPS"
  $RTSR eval --model "$out/model.rtsr" --data "$DATA" --save-metrics
  models+=(--model "$out/model.rtsr")
done
$RTSR bench --model "$SEARCH/model.rtsr" "${models[@]}" --input "$INPUT" --budget-ms 33
