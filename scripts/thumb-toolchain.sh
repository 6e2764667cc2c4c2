#!/usr/bin/env bash
# How to build Rust for a bare-metal Arm (thumb*) target on this machine.
#
#   scripts/thumb-toolchain.sh <target>            print `export` lines; use with:
#       eval "$(scripts/thumb-toolchain.sh thumbv7em-none-eabihf)" && "$CARGO" build --target thumbv7em-none-eabihf
#   scripts/thumb-toolchain.sh --install [<target>]
#       as root with apt: install what is missing (rustc-web cargo-web rust-web-src lld
#       qemu-system-arm); otherwise print exactly what to install. Then prints the exports
#       when a target is given.
#   scripts/thumb-toolchain.sh --check <target>    exit 0 iff a working path exists (quiet)
#
# Two paths, chosen automatically:
#  1. rustup: a rustup toolchain that has <target> installed (the active one first, then the
#     others) → plain cargo pinned to that toolchain with RUSTUP_TOOLCHAIN.
#  2. Debian: /usr/bin/rustc + /usr/bin/cargo (packages rustc-web, cargo-web) and the library
#     source (rust-web-src) → build `core` from source with -Zbuild-std=core, allowed on a
#     stable compiler by RUSTC_BOOTSTRAP=1. Passed through the environment
#     (CARGO_UNSTABLE_BUILD_STD), not firmware/.cargo/config.toml, so path 1 keeps working.
#     RUSTC is exported as well: otherwise Debian's cargo would run the first `rustc` on PATH,
#     which is often the rustup proxy whose toolchain lacks the target.
# Both paths link with ld.lld (package lld; rustup's rust-lld would also do, but the firmware
# config names ld.lld so that both paths link the same way).
#
# MINNOW_THUMB_PATH=rustup|debian forces a path (for testing both on one machine).
set -euo pipefail

APT_PACKAGES=(rustc-web cargo-web rust-web-src lld qemu-system-arm)
KNOWN_TARGETS=(thumbv6m-none-eabi thumbv7m-none-eabi thumbv7em-none-eabi thumbv7em-none-eabihf
  thumbv8m.base-none-eabi thumbv8m.main-none-eabi thumbv8m.main-none-eabihf)

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
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
if [[ -n "$target" ]]; then
  ok=0; for t in "${KNOWN_TARGETS[@]}"; do [[ "$t" == "$target" ]] && ok=1; done
  [[ $ok -eq 1 ]] || { echo "thumb-toolchain.sh: $target is not a thumb bare-metal target (${KNOWN_TARGETS[*]})" >&2; exit 2; }
fi

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

# --- path 1: rustup toolchain with the target installed -------------------------------------
rustup_toolchain() {
  command -v rustup >/dev/null 2>&1 || return 1
  local active tcs tc
  # `rustup show active-toolchain` prints "<name> (reason)"; an override file may name one
  # that is not installed, hence `|| true`.
  active=$(rustup show active-toolchain 2>/dev/null | awk 'NR==1{print $1}' || true)
  tcs=$(rustup toolchain list 2>/dev/null | awk '{print $1}' || true)
  for tc in $active $tcs; do
    if rustup target list --installed --toolchain "$tc" 2>/dev/null | grep -qx "$target"; then
      echo "$tc"
      return 0
    fi
  done
  return 1
}

# --- path 2: Debian rustc-web + build-std ------------------------------------------------------
debian_ok() {
  [[ -x /usr/bin/rustc && -x /usr/bin/cargo ]] || return 1
  local sysroot
  sysroot=$(/usr/bin/rustc --print sysroot 2>/dev/null) || return 1
  [[ -d "$sysroot/lib/rustlib/src/rust/library/core" ]] || return 1
}

need_lld() {
  command -v ld.lld >/dev/null 2>&1 && return 0
  log "ld.lld not found: install package lld (or run: scripts/thumb-toolchain.sh --install)"
  return 1
}

force=${MINNOW_THUMB_PATH:-}
tc=""
if [[ "$force" != debian ]] && tc=$(rustup_toolchain); then
  need_lld || exit 1
  [[ $check -eq 1 ]] && exit 0
  log "rustup toolchain $tc has $target: plain cargo"
  cargo_bin=$(command -v cargo)
  cat <<EOF
export RUSTUP_TOOLCHAIN='$tc'
export CARGO='$cargo_bin'
unset RUSTC RUSTC_BOOTSTRAP CARGO_UNSTABLE_BUILD_STD CARGO_UNSTABLE_BUILD_STD_FEATURES
EOF
elif [[ "$force" != rustup ]] && debian_ok; then
  need_lld || exit 1
  [[ $check -eq 1 ]] && exit 0
  log "no rustup toolchain has $target: Debian $(/usr/bin/rustc --version) with -Zbuild-std=core"
  # compiler-builtins-mem: memcpy/memset/... from compiler_builtins (no libc on bare metal).
  cat <<'EOF'
export CARGO=/usr/bin/cargo
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
export CARGO_UNSTABLE_BUILD_STD=core
export CARGO_UNSTABLE_BUILD_STD_FEATURES=compiler-builtins-mem
unset RUSTUP_TOOLCHAIN
EOF
else
  [[ $check -eq 1 ]] && exit 1
  {
    echo "thumb-toolchain.sh: no way to build for $target here."
    echo "  with rustup and internet:  rustup target add $target   (plus: apt-get install lld qemu-system-arm)"
    echo "  on Debian without targets: apt-get install -y ${APT_PACKAGES[*]}"
    echo "                             (or as root: scripts/thumb-toolchain.sh --install $target)"
  } >&2
  exit 1
fi
