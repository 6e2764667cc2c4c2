# Sourced by the bench scripts that run PyTorch beside minnow (kd_epoch.sh, onnx_teacher.sh,
# onnx_mnist.sh), not run on its own: the paths they share, PyTorch's virtualenv and the minnow
# binary under test.
#
#   MINNOW_MNIST_DIR   MNIST IDX files (default: ../shared/data/mnist from the repo root)
#   MINNOW_BENCH_OUT   where models, runs and results go (each script names its default)
#   MINNOW_BIN         command that runs minnow (default: a copy of the release build)
#   MINNOW_BENCH_THREADS  PyTorch's threads (default: nproc); minnow uses every core
#   MINNOW_BENCH_REPEAT   rounds (default 1), alternating which side goes first
#   OMP_WAIT_POLICY    default PASSIVE (bench/kd_epoch.sh says why)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MNIST="$(cd "${MINNOW_MNIST_DIR:-$ROOT/../shared/data/mnist}" && pwd)"
VENV="$ROOT/bench/.venv"
THREADS="${MINNOW_BENCH_THREADS:-$(nproc)}"
REPEAT="${MINNOW_BENCH_REPEAT:-1}"
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# bench_out DEFAULT: OUT is MINNOW_BENCH_OUT, or DEFAULT, created and made absolute.
bench_out() {
    OUT="${MINNOW_BENCH_OUT:-$1}"
    mkdir -p "$OUT"
    OUT="$(cd "$OUT" && pwd)"
}

# torch_venv MODULE...: installs the PyPI packages of these names into bench/.venv (the only
# index reachable here; PyTorch's Linux wheel is ~3 GB) unless all of them import already.
torch_venv() {
    if ! "$VENV/bin/python" -c "import $(IFS=,; echo "$*")" 2>/dev/null; then
        echo "installing $* from PyPI into $VENV (~3 GB download) ..." >&2
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --progress-bar off "$@"
    fi
}

# minnow_binary: MINNOW is the command that runs minnow: MINNOW_BIN, or a copy of the release
# build in OUT (others edit this tree while a bench runs), its `git describe` in
# OUT/minnow-bin.version.
minnow_binary() {
    if [ -n "${MINNOW_BIN:-}" ]; then
        read -r -a MINNOW <<<"$MINNOW_BIN"
        return
    fi
    echo "minnow: building (release) ..." >&2
    cargo build --quiet --release -p minnow
    cp "$ROOT/target/release/minnow" "$OUT/minnow-bin"
    git -C "$ROOT" describe --always --dirty >"$OUT/minnow-bin.version" 2>/dev/null || true
    MINNOW=("$OUT/minnow-bin")
    echo "minnow: $(cat "$OUT/minnow-bin.version" 2>/dev/null) -> $OUT/minnow-bin" >&2
}
