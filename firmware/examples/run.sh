#!/usr/bin/env bash
# The Rust example on a QEMU board: emit the student as a Rust module (minnow emit rust), build
# examples/classify.rs for the board's core with the toolchain minnow verify uses, run it in QEMU
# (-icount shift=0) and check every golden vector bit for bit. Prints the example's lines and
#   rust-example board=B vectors=N mismatches=0 instr_per_inference=I
# and exits 1 on any mismatch. (The Rust route's runtime flash and RAM are `minnow verify`'s
# columns: the same minnow-core calls, measured by the firmware's size probe.)
#
#   firmware/examples/run.sh <microbit|mps2-an386> <run folder with student.minnow and golden.mngv>
#
# MINNOW_EXAMPLE_TARGET_DIR: cargo's target folder (default firmware/target); scripts/test.sh
# passes the one `minnow verify` builds the firmware in, so core is not built again.
set -euo pipefail
fw=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=$(cd "$fw/.." && pwd)
[[ $# -eq 2 ]] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
board=$1 run=$(cd "$2" && pwd)
case "$board" in
  microbit) target=thumbv6m-none-eabi cpu=cortex-m0 per_tick_x1000=62500 ;;
  mps2-an386) target=thumbv7em-none-eabihf cpu=cortex-m4 per_tick_x1000=40000 ;;
  *) echo "run.sh: board $board: the example runs on microbit (M0) or mps2-an386 (M4)" >&2; exit 2 ;;
esac
if [[ -n "${MINNOW:-}" ]]; then minnow=("$MINNOW")
else minnow=(cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p minnow --); fi

"${minnow[@]}" emit rust "$fw/examples/classify/student" "$run" >/dev/null
eval "$("$root/scripts/thumb-toolchain.sh" "$target")"
target_dir=${MINNOW_EXAMPLE_TARGET_DIR:-$fw/target}
(cd "$fw" && MINNOW_BOARD=$board MINNOW_STUDENT="$run/student.minnow" MINNOW_GOLDEN="$run/golden.mngv" \
  "$CARGO" build --quiet --release --target "$target" --features qemu --example classify --target-dir "$target_dir")
elf="$target_dir/$target/release/examples/classify"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
timeout 120 qemu-system-arm -M "$board" -cpu "$cpu" -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$log" 2>&1 || status=$?
cat "$log"
line=$(grep '^result ' "$log" || true)
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$line"; }
vectors=$(field vectors) mismatches=$(field mismatches) ticks=$(field ticks)
if [[ -z "$line" || $status -ne 0 || "$mismatches" != 0 ]]; then
  echo "rust-example board=$board: FAILED (QEMU exit $status)" >&2
  exit 1
fi
echo "rust-example board=$board student=$(basename "$run") vectors=$vectors mismatches=0" \
  "instr_per_inference=$(( ticks * per_tick_x1000 / 1000 / vectors ))"
