#!/usr/bin/env bash
# Fuzz minnow-core's decoders and kernels with cargo-fuzz (libFuzzer + AddressSanitizer).
#
#   scripts/fuzz.sh build                      build every fuzz target (what CI runs)
#   scripts/fuzz.sh smoke [SECONDS]            run each target for SECONDS (default 30)
#   scripts/fuzz.sh run TARGET [SECONDS] [-- LIBFUZZER_ARGS...]
#                                              run one target (default 600 s)
#   scripts/fuzz.sh seeds                      regenerate fuzz/seeds/ from minnow-core's encoders
#   scripts/fuzz.sh regress                    replay fuzz/regressions/<target>/* (must not crash)
#   scripts/fuzz.sh list                       list the targets
#
# Targets: decode_student (raw bytes), decode_student_sealed (body behind a fixed-up header, so
# inputs pass the CRC and reach postcard and validation), decode_golden, student_roundtrip
# (structure-aware: arbitrary -> encode -> decode -> run -> check against the float reference).
# Each run is one libFuzzer process (as -jobs=1, without its log redirection): the machine is
# shared. The corpus grows in fuzz/corpus/TARGET (ignored by git), seeded from fuzz/seeds/TARGET;
# crashes land in fuzz/artifacts/TARGET. Needs the nightly toolchain; installs cargo-fuzz if
# missing. Env: MINNOW_FUZZ_TOOLCHAIN (default nightly), MINNOW_FUZZ_TIMEOUT (per-input seconds,
# default 10), MINNOW_FUZZ_RSS_MB (default 2048).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

toolchain=${MINNOW_FUZZ_TOOLCHAIN:-nightly}
per_input_timeout=${MINNOW_FUZZ_TIMEOUT:-10}
rss_mb=${MINNOW_FUZZ_RSS_MB:-2048}
targets=(decode_student decode_student_sealed decode_golden student_roundtrip)

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

ensure_tools() {
  if ! rustup run "$toolchain" rustc --version > /dev/null 2>&1; then
    echo "fuzz.sh: installing the $toolchain toolchain" >&2
    rustup toolchain install "$toolchain" --profile minimal
  fi
  if ! cargo fuzz --version > /dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
  fi
}

is_target() {
  local t
  for t in "${targets[@]}"; do [[ "$t" == "$1" ]] && return 0; done
  return 1
}

# run_target TARGET SECONDS [LIBFUZZER_ARGS...]
run_target() {
  local target=$1 seconds=$2
  shift 2
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  local seeds=()
  [[ -d "fuzz/seeds/$target" ]] && seeds+=("fuzz/seeds/$target")
  [[ -d "fuzz/regressions/$target" ]] && seeds+=("fuzz/regressions/$target")
  echo "fuzz.sh: $target for ${seconds}s" >&2
  cargo +"$toolchain" fuzz run "$target" "fuzz/corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout="$per_input_timeout" -rss_limit_mb="$rss_mb" \
    -print_final_stats=1 "$@"
}

cmd=${1:-}
[[ -n "$cmd" ]] || usage
shift
case "$cmd" in
  build)
    ensure_tools
    cargo +"$toolchain" fuzz build
    ;;
  smoke)
    seconds=${1:-30}
    ensure_tools
    cargo +"$toolchain" fuzz build
    for t in "${targets[@]}"; do run_target "$t" "$seconds"; done
    ;;
  run)
    target=${1:-}
    [[ -n "$target" ]] || usage
    is_target "$target" || { echo "fuzz.sh: unknown target $target (try: list)" >&2; exit 2; }
    shift
    seconds=600
    if [[ $# -gt 0 && "$1" != "--" ]]; then seconds=$1; shift; fi
    [[ "${1:-}" == "--" ]] && shift
    ensure_tools
    run_target "$target" "$seconds" "$@"
    ;;
  seeds)
    cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds
    ;;
  regress)
    ensure_tools
    cargo +"$toolchain" fuzz build
    for t in "${targets[@]}"; do
      dir="fuzz/regressions/$t"
      [[ -d "$dir" ]] && compgen -G "$dir/*" > /dev/null || continue
      echo "fuzz.sh: replaying $dir" >&2
      cargo +"$toolchain" fuzz run "$t" "$dir"/* -- -runs=0
    done
    ;;
  list)
    printf '%s\n' "${targets[@]}"
    ;;
  -h|--help) usage ;;
  *) echo "fuzz.sh: unknown command $cmd" >&2; usage ;;
esac
