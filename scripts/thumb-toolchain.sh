#!/usr/bin/env bash
# The Cortex-M toolchain and QEMU.
#
#   scripts/thumb-toolchain.sh --install [<target>]
#       as root with apt: install what is missing (rustc-web cargo-web rust-web-src lld
#       qemu-system-arm); otherwise print exactly what to install. Then prints the exports
#       when a target is given.
#   scripts/thumb-toolchain.sh <target>            print `export` lines; use with:
#       eval "$(scripts/thumb-toolchain.sh thumbv7em-none-eabihf)" && "$CARGO" build --target thumbv7em-none-eabihf
#   scripts/thumb-toolchain.sh --check <target>    exit 0 iff a working path exists (quiet)
#
# Which toolchain builds a target (a rustup toolchain that has it, else Debian's rustc-web with
# -Zbuild-std=core; MINNOW_THUMB_PATH=rustup|debian forces one) is decided in one place,
# trainer/src/device/toolchain.rs, the decision `minnow verify` makes when it builds the
# firmware: for <target> and --check this script asks `minnow verify --print-toolchain`
# ($MINNOW if set, else `cargo run --release -p minnow` in this checkout). Only --install is
# its own: it has to work before minnow is built.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
APT_PACKAGES=(rustc-web cargo-web rust-web-src lld qemu-system-arm)

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

install=0 check=0 target=""
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    --check) check=1 ;;
    -h|--help) usage ;;
    -*) echo "thumb-toolchain.sh: unknown option $a" >&2; usage ;;
    *) [[ -z "$target" ]] || usage; target="$a" ;;
  esac
done
[[ -n "$target" || $install -eq 1 ]] || usage

log() { [[ $check -eq 1 ]] || echo "thumb-toolchain.sh: $*" >&2; }

# Which of the apt packages are missing (by what they provide, so other installs also count).
missing_packages() {
  local m=()
  [[ -x /usr/bin/rustc ]] || m+=(rustc-web)
  [[ -x /usr/bin/cargo ]] || m+=(cargo-web)
  [[ -d /usr/lib/rustlib/src/rust/library/core ]] || m+=(rust-web-src)
  command -v ld.lld >/dev/null 2>&1 || m+=(lld)
  command -v qemu-system-arm >/dev/null 2>&1 || m+=(qemu-system-arm)
  echo "${m[@]:-}"
}

if [[ $install -eq 1 ]]; then
  read -r -a miss <<<"$(missing_packages)"
  if [[ ${#miss[@]} -eq 0 ]]; then
    log "all of ${APT_PACKAGES[*]} (or equivalents) are present"
  elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${miss[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${miss[@]}" >&2
  else
    {
      echo "thumb-toolchain.sh: missing: ${miss[*]}"
      echo "  Debian/Ubuntu: sudo apt-get install -y ${miss[*]}"
      echo "  or, with rustup and internet: rustup target add <target> (and install lld and qemu-system-arm)"
    } >&2
    exit 1
  fi
  [[ -n "$target" ]] || exit 0
fi

if [[ -n "${MINNOW:-}" ]]; then
  minnow=("$MINNOW")
else
  minnow=(cargo run --release --quiet --manifest-path "$root/Cargo.toml" -p minnow --)
fi
if [[ $check -eq 1 ]]; then
  "${minnow[@]}" verify --print-toolchain "$target" >/dev/null 2>&1
else
  "${minnow[@]}" verify --print-toolchain "$target"
fi
