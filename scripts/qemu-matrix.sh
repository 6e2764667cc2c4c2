#!/usr/bin/env bash
# Build the minnow firmware for every QEMU board with one student + golden vectors, run it, and
# print one table. Fails if any board mismatches, fails to build, faults or hangs.
#
#   scripts/qemu-matrix.sh <student.minnow> <golden.mngv> [--debug] [--features F[,G]]
#                          [--boards "microbit mps2-an385 ..."] [--logs DIR]
#   scripts/qemu-matrix.sh <run-dir> [...]     (uses <run-dir>/student.minnow, golden.mngv)
#
# Release builds by default (the instruction counts are the optimised code's). Each board's full
# output is kept in DIR/<board>.log (default firmware/target/matrix). The micro:bit has 16 KiB of
# RAM and 256 KiB of flash: pass a golden file with few vectors (the exporter caps them).
# Columns: instr/inf = instructions per inference (SysTick x per-board factor under
# -icount shift=0), instr/MAC over all MACs and over the dense layers, runtime flash = flash used
# minus the embedded student and golden blobs (includes the text reporting and core::fmt),
# core_flash = the same for minnow-size-probe (decode + run + compare, no output: what an
# application pays for minnow-core; from llvm-size), RAM = .data + .bss + measured stack peak.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 1 ]] || usage
if [[ -d "$1" ]]; then
  student="$1/student.minnow" golden="$1/golden.mngv"; shift
else
  [[ $# -ge 2 ]] || usage
  student=$1 golden=$2; shift 2
fi
profile=(--release) features=() logs="$here/../firmware/target/matrix"
boards="microbit mps2-an385 mps2-an386 mps2-an500 mps2-an505"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) profile=() ;;
    --features) shift; features=(--features "$1") ;;
    --boards) shift; boards=$1 ;;
    --logs) shift; logs=$1 ;;
    *) usage ;;
  esac
  shift
done
for f in "$student" "$golden"; do
  [[ -f "$f" ]] || { echo "qemu-matrix.sh: no such file: $f" >&2; exit 2; }
done
student=$(cd "$(dirname "$student")" && pwd)/$(basename "$student")
golden=$(cd "$(dirname "$golden")" && pwd)/$(basename "$golden")
mkdir -p "$logs"

# value of key=value in the first line of $1 that starts with word $2
kv() { awk -v w="$2" -v k="$3" '$1 == w { for (i = 2; i <= NF; i++) { split($i, p, "="); if (p[1] == k) { print substr($i, length(k) + 2); exit } } }' "$1"; }
milli() { [[ -n "$1" ]] && awk -v v="$1" 'BEGIN { printf "%.3f", v / 1000 }' || echo "-"; }

declare -A core=([microbit]=M0 [mps2-an385]=M3 [mps2-an386]=M4 [mps2-an500]=M7 [mps2-an505]=M33)
declare -A target=([microbit]=thumbv6m-none-eabi [mps2-an385]=thumbv7m-none-eabi
  [mps2-an386]=thumbv7em-none-eabihf [mps2-an500]=thumbv7em-none-eabihf
  [mps2-an505]=thumbv8m.main-none-eabihf)
sizer=$(command -v llvm-size || command -v rust-size || true)
# flash of the size probe (built by the same cargo build) minus the embedded blobs
core_flash() {
  local elf="$here/../firmware/target/${target[$1]}/$2/minnow-size-probe" blobs=$3
  [[ -n "$sizer" && -f "$elf" && -n "$blobs" ]] || { echo "-"; return; }
  "$sizer" -A "$elf" | awk -v b="$blobs" '$1 ~ /^\.(vector_table|text|rodata|data|gnu\.sgstubs)$/ { s += $2 } END { print s - b }'
}
rows=() failed=0
for b in $boards; do
  log="$logs/$b.log"
  echo "qemu-matrix.sh: $b ..." >&2
  set +e
  MINNOW_STUDENT="$student" MINNOW_GOLDEN="$golden" \
    "$here/firmware.sh" "$b" "${profile[@]}" "${features[@]}" >"$log" 2>"$logs/$b.stderr"
  rc=$?
  set -e
  verdict=$(grep -o '^verdict=[A-Z]*' "$log" | head -1 | cut -d= -f2 || true)
  [[ -n "$verdict" ]] || verdict="rc=$rc"
  if [[ $rc -ne 0 || "$verdict" != PASS ]]; then
    failed=1
    echo "qemu-matrix.sh: $b failed (exit $rc):" >&2
    grep -E '^(error|mismatch|PANIC|HARDFAULT)' "$log" "$logs/$b.stderr" | head -5 >&2 || tail -5 "$logs/$b.stderr" >&2
  fi
  sb=$(kv "$log" mem student_bytes) gb=$(kv "$log" mem golden_bytes)
  blobs=$(( ${sb:-0} + ${gb:-0} ))
  prof=release; [[ ${#profile[@]} -eq 0 ]] && prof=debug
  rows+=("$(printf '%-11s %-4s %7s %10s %11s %9s %11s %13s %10s %9s %-6s' \
    "$b" "${core[$b]:-?}" "$(kv "$log" result vectors)" "$(kv "$log" result mismatches)" \
    "$(kv "$log" perf per_inference)" "$(milli "$(kv "$log" perf per_mac_x1000)")" \
    "$(milli "$(kv "$log" perf dense_per_mac_x1000)")" "$(kv "$log" mem runtime_flash)" \
    "$(core_flash "$b" "$prof" "$blobs")" \
    "$(kv "$log" mem ram_bytes)" "$verdict")")
done
echo "student=$student golden=$golden profile=${profile[*]:-debug} ${features[*]:-}"
printf '%-11s %-4s %7s %10s %11s %9s %11s %13s %10s %9s %-6s\n' board core vectors mismatches instr/inf instr/MAC dense/MAC runtime_flash core_flash ram_bytes result
printf '%s\n' "${rows[@]}"
exit $failed
