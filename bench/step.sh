# Sourced by bench/mnist.sh and bench/hinton.sh: their one way to run a training step.
#
# step NAME DONE minnow-args...: runs `$BIN args` unless the file DONE exists; a killed
# training run (the folder $OUT/NAME with a checkpoint but no DONE) is resumed instead. Leaves
# $OUT/NAME.cmd (the exact command), NAME.wall (wall seconds) and NAME.log.
step() {
  local name=$1 done=$2
  shift 2
  if [[ -e $done ]]; then
    echo "== $name: done ($done)"
    return 0
  fi
  local args=("$@")
  if [[ -e $OUT/$name/checkpoint.bin ]]; then
    args=(resume --quiet "$OUT/$name")
  fi
  echo "== $name: $BIN ${args[*]}"
  printf '%q ' minnow "${args[@]}" >"$OUT/$name.cmd"
  echo >>"$OUT/$name.cmd"
  local t0 t1
  t0=$(date +%s.%N)
  if ! "$BIN" "${args[@]}" >"$OUT/$name.log" 2>&1; then
    echo "!! $name failed, see $OUT/$name.log" >&2
    tail -5 "$OUT/$name.log" >&2
    return 1
  fi
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", b - a }' >"$OUT/$name.wall"
  echo "   $(cat "$OUT/$name.wall") s"
}
