#!/usr/bin/env bash
# Build the minnow firmware for a board and run it in QEMU.
#
#   scripts/firmware.sh <board> [--release | --speed] [--features F[,G]] [--build-only]
#                               [--no-icount] [--timeout SECONDS] [--keep-probe DIR]
#
# boards: microbit (Cortex-M0), mps2-an385 (M3), mps2-an386 (M4F), mps2-an500 (M7),
#         mps2-an505 (M33)
#
# The firmware's output (semihosting) goes to stdout; cargo's and QEMU's messages to stderr.
# Exit status: QEMU's (0 = the firmware exited with success, 1 = it panicked or faulted),
# 124 if it ran past the timeout (default 60 s, env MINNOW_QEMU_TIMEOUT), or the build's.
# QEMU runs with `-icount shift=0` (one instruction = 1 ns of virtual time, deterministic)
# unless --no-icount. The ELF is also copied to firmware/target/elf/<board>-<profile>.elf.
# --release builds for size (opt-level "s", the default for devices), --speed with opt-level 3
# (faster on cores without DSP: see firmware/Cargo.toml). --keep-probe DIR copies the size probe
# and its baseline (built with the same model) to DIR before another build can replace them.
# MINNOW_STUDENT / MINNOW_GOLDEN are passed through to the build (feature `model`).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fw=$(cd "$here/../firmware" && pwd)

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

board="" profile=debug features=qemu build_only=0 icount=1 keep_probe=""
timeout_s=${MINNOW_QEMU_TIMEOUT:-60}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --release) profile=release ;;
    --speed) profile=speed ;;
    --keep-probe) shift; [[ $# -gt 0 ]] || usage; keep_probe=$1 ;;
    --features) shift; [[ $# -gt 0 ]] || usage; features="$features,$1" ;;
    --features=*) features="$features,${1#--features=}" ;;
    --build-only) build_only=1 ;;
    --no-icount) icount=0 ;;
    --timeout) shift; [[ $# -gt 0 ]] || usage; timeout_s=$1 ;;
    -h|--help) usage ;;
    -*) echo "firmware.sh: unknown option $1" >&2; usage ;;
    *) [[ -z "$board" ]] || usage; board=$1 ;;
  esac
  shift
done
[[ -n "$board" ]] || usage

case "$board" in
  microbit)   target=thumbv6m-none-eabi;        cpu=cortex-m0 ;;
  mps2-an385) target=thumbv7m-none-eabi;        cpu=cortex-m3 ;;
  mps2-an386) target=thumbv7em-none-eabihf;     cpu=cortex-m4 ;;
  mps2-an500) target=thumbv7em-none-eabihf;     cpu=cortex-m7 ;;
  mps2-an505) target=thumbv8m.main-none-eabihf; cpu=cortex-m33 ;;
  *) echo "firmware.sh: unknown board '$board' (microbit mps2-an385 mps2-an386 mps2-an500 mps2-an505)" >&2; exit 2 ;;
esac

# Toolchain: rustup with the target, else Debian rustc-web + build-std (installed if missing and root).
if ! "$here/thumb-toolchain.sh" --check "$target"; then
  "$here/thumb-toolchain.sh" --install >&2
fi
exports=$("$here/thumb-toolchain.sh" "$target")
eval "$exports"
command -v qemu-system-arm >/dev/null 2>&1 || "$here/thumb-toolchain.sh" --install >&2

if [[ -n "${RUSTFLAGS:-}${CARGO_ENCODED_RUSTFLAGS:-}" ]]; then
  # They would replace firmware/.cargo/config.toml's rustflags (-Tlink.x) and break the link.
  echo "firmware.sh: warning: ignoring RUSTFLAGS/CARGO_ENCODED_RUSTFLAGS from the environment" >&2
  unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
fi
cargo_args=(build --target "$target" --features "$features")
[[ $profile == release ]] && cargo_args+=(--release)
[[ $profile == speed ]] && cargo_args+=(--profile speed)
echo "firmware.sh: MINNOW_BOARD=$board $CARGO ${cargo_args[*]}" >&2
# Every build writes the same ELF path whatever model it embeds: hold a lock from the build
# until this run has its own copy, so concurrent runs (parallel tests) never swap models.
mkdir -p "$fw/target/elf"
exec 9>"$fw/target/.firmware-build.lock"
flock 9
(cd "$fw" && MINNOW_BOARD="$board" "$CARGO" "${cargo_args[@]}" >&2)

built="$fw/target/$target/$profile/minnow-firmware"
cp "$built" "$fw/target/elf/$board-$profile.elf"
elf=$(mktemp "$fw/target/elf/run-$board-XXXXXX.elf")
trap 'rm -f "$elf"' EXIT
cp "$built" "$elf"
if [[ -n "$keep_probe" ]]; then
  mkdir -p "$keep_probe"
  for bin in minnow-size-probe minnow-size-baseline; do
    cp "$fw/target/$target/$profile/$bin" "$keep_probe/$bin"
  done
fi
flock -u 9
echo "firmware.sh: built $fw/target/elf/$board-$profile.elf" >&2
[[ $build_only -eq 1 ]] && exit 0

qemu=(qemu-system-arm -M "$board" -cpu "$cpu" -nographic -monitor none -serial null
      -semihosting-config enable=on,target=native -kernel "$elf")
[[ $icount -eq 1 ]] && qemu+=(-icount shift=0)
echo "firmware.sh: timeout $timeout_s ${qemu[*]}" >&2
set +e
timeout --foreground -k 5 "$timeout_s" "${qemu[@]}"
rc=$?
set -e
if [[ $rc -eq 124 ]]; then
  echo "firmware.sh: QEMU ran past ${timeout_s}s (firmware hung?)" >&2
fi
echo "firmware.sh: $board exit status $rc" >&2
exit $rc
