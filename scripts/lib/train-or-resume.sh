# Sourced by the training scripts.
# run_training OUT_DIR FLAG…: trains into OUT_DIR with `rtsr train FLAG…`, or resumes the run there when it was
# interrupted (its checkpoint holds the flags); does nothing once OUT_DIR/model.rtsr exists, and exits when
# the run stops before its end.
run_training() {
  local out=$1
  shift
  if [ -f "$out/checkpoint.rtsr" ] && [ ! -f "$out/model.rtsr" ]; then
    $RTSR train --resume --out "$out"
  elif [ ! -f "$out/model.rtsr" ]; then
    $RTSR train "$@" --val-every 5000 --checkpoint-every 1000 --out "$out"
  fi
  # An interrupted run exits 0 with its checkpoint saved: stop here rather than at the next step's missing model.
  [ -f "$out/model.rtsr" ] || { echo "$out stopped before its last step: run the same command again to resume it" >&2; exit 130; }
}

# train_or_resume OUT_DIR DATA ARCH SCALE STEPS
train_or_resume() {
  run_training "$1" --arch "$3" --scale "$4" --data "$2" --steps "$5"
}
