#!/usr/bin/env bash
# Builds libminnow_c.a, the C ABI (capi/) over minnow-core, for one Cortex-M target.
#
#   capi/build-staticlib.sh <rust target> <features|all> <out.a>
#
# <features>: the layer kinds to link, as student.h's MINNOW_STUDENT_CARGO_FEATURES names them
# (e.g. dense,flatten for an MLP), or `all`. Built for size as the Rust firmware is (opt-level
# s, fat LTO, one codegen unit, panic = abort), with the toolchain scripts/thumb-toolchain.sh
# picks, into target/capi/ (core is built once per target; each feature set keeps its own
# minnow-core); the library is copied to <out.a>. Cores: thumbv6m-none-eabi
# (M0/M0+, soft float), thumbv7em-none-eabihf (M4F/M7, hard float: compile C with
# -mfloat-abi=hard), thumbv7m-none-eabi (M3), thumbv8m.main-none-eabihf (M33).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -eq 3 ]] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
target=$1 features=$2 out=$3
eval "$("$root/scripts/thumb-toolchain.sh" "$target")"
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s CARGO_PROFILE_RELEASE_LTO=fat \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1 CARGO_PROFILE_RELEASE_PANIC=abort \
  CARGO_PROFILE_RELEASE_DEBUG=false
# `cargo rustc --crate-type staticlib`: with the rlib in the same build rustc would skip LTO.
args=(rustc --release --quiet -p minnow-capi --lib --crate-type staticlib --target "$target"
  --target-dir "$root/target/capi")
if [[ "$features" == all ]]; then
  args+=(--features panic-handler)
else
  args+=(--no-default-features --features "panic-handler,$features")
fi
if [[ "$target" == thumbv8m.main* ]]; then
  # As the firmware: the M33's optional DSP extension, for minnow-core's SMLAD dot product.
  export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+dsp"
fi
(cd "$root" && "$CARGO" "${args[@]}")
mkdir -p "$(dirname "$out")"
cp "$root/target/capi/$target/release/libminnow_c.a" "$out.tmp"
mv "$out.tmp" "$out"
