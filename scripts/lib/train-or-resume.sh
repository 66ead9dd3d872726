# Sourced by the training scripts: train_or_resume OUT_DIR DATA ARCH SCALE STEPS
# Trains into OUT_DIR, or resumes the run there when it was interrupted; does nothing once OUT_DIR/model.rtsr exists.
train_or_resume() {
  local out=$1 data=$2 arch=$3 scale=$4 steps=$5
  if [ -f "$out/checkpoint.rtsr" ] && [ ! -f "$out/model.rtsr" ]; then
    $RTSR train --resume --out "$out"
  elif [ ! -f "$out/model.rtsr" ]; then
    $RTSR train --arch "$arch" --scale "$scale" --data "$data" --steps "$steps" \
      --val-every 5000 --checkpoint-every 1000 --out "$out"
  fi
}
