#!/usr/bin/env bash
# The kernel benchmark: each of minnow-core's int8 kernels on fixed shapes, and the whole
# 29,066-parameter MNIST CNN, in QEMU (-icount shift=0), instructions per MAC, side by side
# with ARM's CMSIS-NN on the same shapes, weights and inputs in the same firmware.
#
#   scripts/kernel-bench.sh [--boards "mps2-an386 microbit ..."] [--speed] [--features F[,G]] [--no-cmsis-nn]
#
# Default board: mps2-an386 (Cortex-M4). Prints a header per board (`kernel-bench board=<b>
# core=<c> shapes=<n> plan_step_bytes=<bytes of RAM a plan keeps per layer>`) and one line per
# shape and board:
#   board=<b> shape=<name> macs=<n> instructions=<n> per_mac=<x.xx>
# `<name>+layer` is the same layer run as a one-layer student (decode of the layer, shape
# resolution and dispatch included), `<name>+plan` the same through `Student::plan` (the layer
# decoded once, as an application that keeps a plan runs it); `cnn29k` is the whole CNN;
# `maxpool-total` sums the three max pools; `check ... exact=yes` lines are small shapes only
# checked (the kernels' other paths). Every output is checked bit for bit against the host's;
# the script fails on any mismatch, on a firmware that does not finish, or when a board is not
# a QEMU board.
#
# CMSIS-NN (bench/cmsis-nn: the vendored source, compiled with arm-none-eabi-gcc -O3 for the
# board's core, called as TensorFlow Lite Micro calls it) adds one line per shape:
#   cmsis-nn board=<b> shape=<name> macs=<n> instructions=<n> per_mac=<x.xx> minnow_per_mac=<x.xx>
#     ratio=<minnow kernel / CMSIS-NN> ratio_layer=<minnow +layer / CMSIS-NN> same_output=yes|no
# (same_output: CMSIS-NN's output equals the host's, so both did the same work; it does not
# fail the script). Not on the micro:bit (flash). It needs gcc-arm-none-eabi and libnewlib-arm-none-eabi (installed here
# with apt when root); --no-cmsis-nn leaves it out.
#
# Shapes: firmware/testgen (`minnow-fw-testgen kernels`); firmware:
# firmware/src/bin/minnow-kernel-bench.rs; results: firmware/README.md, "Kernel benchmark".
set -euo pipefail
cd "$(dirname "$0")/.."

boards="mps2-an386" profile=release features="" cmsis=yes
usage() { sed -n '6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --boards) [[ $# -ge 2 ]] || usage; boards="$2"; shift 2 ;;
    --speed) profile=speed; shift ;;
    --features) [[ $# -ge 2 ]] || usage; features=",$2"; shift 2 ;;
    --no-cmsis-nn) cmsis=no; shift ;;
    -h|--help) usage ;;
    *) echo "kernel-bench.sh: unknown argument $1" >&2; usage ;;
  esac
done

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
work="$target_dir/kernel-bench"
mkdir -p "$work"
testgen=(cargo run --release --quiet --manifest-path firmware/testgen/Cargo.toml --)
"${testgen[@]}" kernels "$work" >/dev/null
# build.rs embeds a student and golden vectors in every build of the package (the benchmark
# does not use them): the smallest testgen student, so that it fits every board.
"${testgen[@]}" mlp "$work/build-student" --hidden 4 --vectors 1 >/dev/null

if [[ $cmsis == yes ]] && ! { command -v arm-none-eabi-gcc >/dev/null \
    && [[ -e /usr/lib/arm-none-eabi/include/string.h ]]; }; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "kernel-bench.sh: installing gcc-arm-none-eabi libnewlib-arm-none-eabi (CMSIS-NN)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi; } >/dev/null
  else
    echo "kernel-bench.sh: CMSIS-NN needs arm-none-eabi-gcc and newlib's headers: apt-get install" \
      "gcc-arm-none-eabi libnewlib-arm-none-eabi, or pass --no-cmsis-nn" >&2
    exit 2
  fi
fi

# CMSIS-NN and minnow_cmsis.c as a static library for one core (`<qemu cpu> <rust target>
# <out dir>`), rebuilt when a source is newer. -O3: the build ARM's figures are quoted for.
cmsis_lib() {
  local cpu=$1 target=$2 dir=$3 abi=soft
  [[ $target == *hf ]] && abi="hard -mfpu=auto"
  local lib="$dir/libminnow_cmsis_nn.a"
  if [[ -f "$lib" ]] && [[ -z $(find bench/cmsis-nn -newer "$lib" -type f | head -1) ]]; then
    echo "$lib"; return
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  local f
  set -e
  for f in bench/cmsis-nn/minnow_cmsis.c bench/cmsis-nn/Source/*.c; do
    # shellcheck disable=SC2086 # $abi is two flags on purpose
    arm-none-eabi-gcc -O3 -mcpu="$cpu" -mthumb -mfloat-abi=$abi -ffunction-sections \
      -fdata-sections -Ibench/cmsis-nn/Include -c "$f" -o "$dir/$(basename "$f" .c).o" >&2
  done
  arm-none-eabi-ar rcs "$lib" "$dir"/*.o
  echo "$lib"
}

# `<board> <rust target> <qemu cpu>` for every QEMU board of firmware/boards.rs.
qemu_boards() {
  awk -F'"' '/^ *name:/ {n=$2} /^ *target:/ {t=$2} /^ *cpu:/ {print n, t, $2}' firmware/boards.rs
}

status=0
for board in $boards; do
  row=$(qemu_boards | awk -v b="$board" '$1 == b')
  if [[ -z "$row" ]]; then
    echo "kernel-bench.sh: $board is not a QEMU board of firmware/boards.rs" >&2
    exit 2
  fi
  read -r _ target cpu <<<"$row"
  log="$work/$board-$profile.log"
  lib=""
  if [[ $cmsis == yes && $board == microbit ]]; then
    # 256 KB of flash hold the suite and minnow-core, not CMSIS-NN's -O3 code as well.
    echo "skipped cmsis-nn board=$board flash=too-small"
  elif [[ $cmsis == yes ]] && ! lib=$(cmsis_lib "$cpu" "$target" "$work/cmsis-nn/$board"); then
    echo "kernel-bench.sh: CMSIS-NN did not compile for $board" >&2
    exit 1
  fi
  if ! (
    eval "$(scripts/thumb-toolchain.sh "$target" 2>/dev/null)"
    cd firmware
    MINNOW_CMSIS_NN_LIB="$lib" MINNOW_BOARD="$board" MINNOW_STUDENT="$work/build-student/student.minnow" \
      MINNOW_GOLDEN="$work/build-student/golden.mngv" MINNOW_BENCH_SUITE="$work/kernels.bin" \
      "$CARGO" build --target "$target" --profile "$profile" \
      --features "qemu,kernel-bench$features" --bin minnow-kernel-bench \
      --target-dir "$target_dir/firmware"
  ) >"$log.build" 2>&1; then
    cat "$log.build" >&2
    echo "kernel-bench.sh: the build for $board failed" >&2
    exit 1
  fi
  elf="$target_dir/firmware/$target/$profile/minnow-kernel-bench"
  rc=0
  timeout 300 qemu-system-arm -M "$board" -cpu "$cpu" -nographic -monitor none -serial null \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$log" 2>&1 \
    || rc=$?
  grep -E '^(kernel-bench|board|skipped|mismatch|check|cmsis-nn)' "$log" || true
  if [[ $rc -ne 0 ]] || ! grep -q '^verdict=PASS' "$log"; then
    echo "kernel-bench.sh: $board failed (QEMU exit $rc; see $log)" >&2
    status=1
  fi
done
exit $status
