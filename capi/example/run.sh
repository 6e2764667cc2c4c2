#!/usr/bin/env bash
# The C example on a QEMU board: emit the student as C (minnow emit c), build libminnow_c.a for
# the board's core with just the student's layer kinds, compile the README's classify.c and the
# golden-vector runner main.c with Debian's arm-none-eabi-gcc, run it in QEMU (-icount shift=0)
# and check every golden vector bit for bit. Prints the runner's lines and one summary:
#   c-example board=B vectors=N mismatches=0 instr_per_inference=I runtime_flash=R ram=M stack=S
# runtime_flash: bytes of flash the size probe (probe.c: decode + one inference) takes from
# libminnow_c.a (decode, checks, kernels, CRC, memcpy and compiler helpers; from the link map);
# selftest_flash: the same for the golden-vector runner (adds golden vectors and status names);
# ram: the runner's .data + .bss (the scratch buffer, the decoded student) + its stack's peak.
# Exits 1 on any mismatch.
#
#   capi/example/run.sh <microbit|mps2-an386> <run folder with student.minnow and golden.mngv> [features|all]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[[ $# -ge 2 ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
board=$1 run=$2 features=${3:-}
case "$board" in
  microbit) target=thumbv6m-none-eabi cpu=cortex-m0 per_tick_x1000=62500
    cflags=(-mcpu=cortex-m0 -mthumb -mfloat-abi=soft) ;;
  mps2-an386) target=thumbv7em-none-eabihf cpu=cortex-m4 per_tick_x1000=40000
    cflags=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16) ;;
  *) echo "run.sh: board $board: the C example runs on microbit (M0) or mps2-an386 (M4)" >&2; exit 2 ;;
esac
if [[ -n "${MINNOW:-}" ]]; then minnow=("$MINNOW")
else minnow=(cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p minnow --); fi

build="$root/target/c-example/$board-$(basename "$run")"
rm -rf "$build" && mkdir -p "$build"
"${minnow[@]}" emit c "$build/gen" "$run" >/dev/null 2>"$build/emit.log" \
  || { cat "$build/emit.log" >&2; exit 1; }
if [[ -z "$features" ]]; then
  features=$(sed -n 's/^#define MINNOW_STUDENT_CARGO_FEATURES "\(.*\)"$/\1/p' "$build/gen/student.h")
fi
"$root/capi/build-staticlib.sh" "$target" "$features" "$build/libminnow_c.a"

ex="$root/capi/example"
cp "$root/firmware/memory/$board.x" "$build/memory.x"
common=("${cflags[@]}" -std=c11 -Os -g -Wall -Wextra -Werror -ffreestanding -ffunction-sections
  -fdata-sections -nostdlib -I "$root/capi/include" -I "$build/gen" -I "$ex"
  -L "$build" -T "$ex/link.ld" -Wl,--gc-sections -Wl,-z,noexecstack)
arm-none-eabi-gcc "${common[@]}" -Wl,-Map="$build/example.map" -o "$build/example.elf" \
  "$ex/main.c" "$ex/classify.c" "$ex/startup.c" "$build/gen/student.c" "$build/gen/golden.c" \
  "$build/libminnow_c.a" -lgcc
arm-none-eabi-gcc "${common[@]}" -Wl,-Map="$build/probe.map" -o "$build/probe.elf" \
  "$ex/probe.c" "$ex/classify.c" "$ex/startup.c" "$build/gen/student.c" "$build/libminnow_c.a" -lgcc

status=0
timeout 120 qemu-system-arm -M "$board" -cpu "$cpu" -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -icount shift=0 -kernel "$build/example.elf" \
  >"$build/qemu.log" 2>&1 || status=$?
cat "$build/qemu.log"
line=$(grep '^result ' "$build/qemu.log" || true)
field() { sed -n "s/.* $1=\([0-9-]*\).*/\1/p" <<<"$line"; }
vectors=$(field vectors) mismatches=$(field mismatches) ticks=$(field ticks) stack=$(field stack)
if [[ -z "$line" || $status -ne 0 || "$mismatches" != 0 ]]; then
  echo "c-example board=$board: FAILED (QEMU exit $status)" >&2
  exit 1
fi
# Flash from the library: the sizes of its input sections placed in flash, from a link map.
lib_flash() { awk '
  function hex(s,   n, i) { n = 0; s = tolower(substr(s, 3))
    for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
    return n }
  /^[^ ]/ { out = $1 }
  out ~ /^\.(text|ARM\.exidx|data)$/ && /libminnow_c\.a\(/ {
    for (i = 1; i < NF; i++) if ($i ~ /^0x/ && $(i+1) ~ /^0x/) { total += hex($(i+1)); break }
  }
  END { print total + 0 }' "$1"; }
runtime=$(lib_flash "$build/probe.map") selftest=$(lib_flash "$build/example.map")
timeout 60 qemu-system-arm -M "$board" -cpu "$cpu" -nographic -monitor none -serial null \
  -semihosting-config enable=on,target=native -kernel "$build/probe.elf" \
  || { echo "c-example board=$board: the size probe failed" >&2; exit 1; }
read -r _ data bss _ < <(arm-none-eabi-size "$build/example.elf" | tail -1)
instr=$(( ticks * per_tick_x1000 / 1000 / vectors ))
echo "c-example board=$board student=$(basename "$run") features=$features vectors=$vectors" \
  "mismatches=0 instr_per_inference=$instr runtime_flash=$runtime selftest_flash=$selftest" \
  "ram=$((data + bss + stack)) stack=$stack"
