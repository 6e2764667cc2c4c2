#!/usr/bin/env bash
# Build the minnow firmware for every QEMU board with one student + golden vectors, run it, and
# print one table. Fails if any board mismatches, fails to build, faults or hangs.
#
#   scripts/qemu-matrix.sh <student.minnow> <golden.mngv> [--debug | --speed] [--features F[,G]]
#                          [--boards "microbit mps2-an385 ..."] [--logs DIR]
#                          [--max-runtime BOARD=BYTES]...
#   scripts/qemu-matrix.sh <run-dir> [...]     (uses <run-dir>/student.minnow, golden.mngv)
#
# Release builds (for size) by default; --speed builds with opt-level 3. Each board's full
# output is kept in DIR/<board>.log (default firmware/target/matrix). The micro:bit has 16 KiB of
# RAM and 256 KiB of flash: pass a golden file with few vectors (the exporter caps them).
# Columns: instr/inf = instructions per inference (SysTick x per-board factor under
# -icount shift=0), instr/MAC over all MACs and over the dense layers, firmware_code = flash of
# the reporting firmware minus the embedded student and golden blobs (includes the text
# reporting and core::fmt), runtime = the flash minnow-core adds to an application: the size
# probe (decode the student, run golden vector 0, compare; no output) minus the same application
# without minnow-core (minnow-size-baseline), minus the student blob and the probe's input and
# expected logits (from llvm-size); probe = the size probe's own verdict in QEMU (it must pass,
# so the runtime measured is one that works); RAM = .data + .bss + measured stack peak.
# --max-runtime BOARD=BYTES fails the run if BOARD's runtime exceeds BYTES (a size budget).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[[ $# -ge 1 ]] || usage
if [[ -d "$1" ]]; then
  student="$1/student.minnow" golden="$1/golden.mngv"; shift
else
  [[ $# -ge 2 ]] || usage
  student=$1 golden=$2; shift 2
fi
profile=(--release) features=() logs="$here/../firmware/target/matrix"
declare -A max_runtime=()
boards="microbit mps2-an385 mps2-an386 mps2-an500 mps2-an505"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --debug) profile=() ;;
    --speed) profile=(--speed) ;;
    --features) shift; features=(--features "$1") ;;
    --boards) shift; boards=$1 ;;
    --logs) shift; logs=$1 ;;
    --max-runtime) shift; [[ "$1" == *=* ]] || usage; max_runtime[${1%%=*}]=${1#*=} ;;
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
declare -A cpu=([microbit]=cortex-m0 [mps2-an385]=cortex-m3 [mps2-an386]=cortex-m4
  [mps2-an500]=cortex-m7 [mps2-an505]=cortex-m33)
declare -A target=([microbit]=thumbv6m-none-eabi [mps2-an385]=thumbv7m-none-eabi
  [mps2-an386]=thumbv7em-none-eabihf [mps2-an500]=thumbv7em-none-eabihf
  [mps2-an505]=thumbv8m.main-none-eabihf)
sizer=$(command -v llvm-size || command -v rust-size || true)
# flash (vector table, code, read-only data) of an ELF
flash() { "$sizer" -A "$1" | awk '$1 ~ /^\.(vector_table|text|rodata|data|gnu\.sgstubs)$/ { s += $2 } END { print s }'; }
# minnow-core's runtime: probe - baseline - student blob - probe input - probe logits
runtime() {
  local dir=$1 data=$2
  [[ -n "$sizer" && -f "$dir/minnow-size-probe" && -f "$dir/minnow-size-baseline" && -n "$data" ]] || { echo "-"; return; }
  echo $(( $(flash "$dir/minnow-size-probe") - $(flash "$dir/minnow-size-baseline") - data ))
}
rows=() failed=0
for b in $boards; do
  log="$logs/$b.log"
  echo "qemu-matrix.sh: $b ..." >&2
  set +e
  probes="$logs/$b.probe"
  rm -rf "$probes"
  MINNOW_STUDENT="$student" MINNOW_GOLDEN="$golden" \
    "$here/firmware.sh" "$b" "${profile[@]}" "${features[@]}" --keep-probe "$probes" \
    >"$log" 2>"$logs/$b.stderr"
  rc=$?
  probe=-
  if [[ -f "$probes/minnow-size-probe" ]]; then
    timeout --foreground -k 5 60 qemu-system-arm -M "$b" -cpu "${cpu[$b]}" -nographic \
      -monitor none -serial null -semihosting-config enable=on,target=native \
      -kernel "$probes/minnow-size-probe" >"$logs/$b.probe.log" 2>&1
    [[ $? -eq 0 ]] && probe=PASS || probe=FAIL
  fi
  set -e
  verdict=$(grep -o '^verdict=[A-Z]*' "$log" | head -1 | cut -d= -f2 || true)
  [[ -n "$verdict" ]] || verdict="rc=$rc"
  if [[ "$probe" != PASS ]]; then
    failed=1
    echo "qemu-matrix.sh: $b: the size probe did not pass ($probe; $logs/$b.probe.log)" >&2
  fi
  if [[ $rc -ne 0 || "$verdict" != PASS ]]; then
    failed=1
    echo "qemu-matrix.sh: $b failed (exit $rc):" >&2
    grep -E '^(error|mismatch|PANIC|HARDFAULT)' "$log" "$logs/$b.stderr" | head -5 >&2 || tail -5 "$logs/$b.stderr" >&2
  fi
  sb=$(kv "$log" mem student_bytes)
  # the probe's embedded data: the student blob, golden vector 0's input and expected logits
  il=$(kv "$log" model input_len) cl=$(kv "$log" model classes)
  data=""; [[ -n "$sb" && -n "$il" && -n "$cl" ]] && data=$(( sb + il + cl ))
  rt=$(runtime "$probes" "$data")
  if [[ -n "${max_runtime[$b]:-}" ]]; then
    if [[ "$rt" == - || "$rt" -gt "${max_runtime[$b]}" ]]; then
      failed=1
      echo "qemu-matrix.sh: $b: minnow-core runtime $rt bytes is over the budget of ${max_runtime[$b]}" >&2
    else
      echo "qemu-matrix.sh: $b: minnow-core runtime $rt bytes (budget ${max_runtime[$b]})" >&2
    fi
  fi
  rows+=("$(printf '%-11s %-4s %7s %10s %11s %9s %11s %13s %8s %9s %-6s %-5s' \
    "$b" "${core[$b]:-?}" "$(kv "$log" result vectors)" "$(kv "$log" result mismatches)" \
    "$(kv "$log" perf per_inference)" "$(milli "$(kv "$log" perf per_mac_x1000)")" \
    "$(milli "$(kv "$log" perf dense_per_mac_x1000)")" "$(kv "$log" mem runtime_flash)" \
    "$rt" \
    "$(kv "$log" mem ram_bytes)" "$verdict" "$probe")")
done
echo "student=$student golden=$golden profile=${profile[*]:-debug} ${features[*]:-}"
printf '%-11s %-4s %7s %10s %11s %9s %11s %13s %8s %9s %-6s %-5s\n' board core vectors mismatches instr/inf instr/MAC dense/MAC firmware_code runtime ram_bytes result probe
printf '%s\n' "${rows[@]}"
exit $failed
