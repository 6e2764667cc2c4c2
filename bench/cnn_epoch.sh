#!/usr/bin/env bash
# One epoch of a CNN student on hard labels, minnow and PyTorch side by side in one run, on
# MNIST (issue #17):
#   cnn29k   conv 16, 32, 64 (3x3 + ReLU + 2x2 max pooling each), dense 10: 29,066 parameters
#   cnn6k    conv 4, 8, 16, dense 32 + ReLU, dense 10: 6,474 parameters
# both on the first 10,000 training images (--train-limit), 1 % validation, batch 128, Adam
# 1e-3, no augmentation. Prints seconds per epoch and minnow/PyTorch, with the 1-minute load
# average beside every figure.
#
# Run by hand, not in CI:   bash bench/cnn_epoch.sh
#
# What is timed, on both sides: bench/kd_epoch.sh's region (shuffle, batch gather, forward, loss,
# backward, Adam step, then the validation forward pass); minnow's figure is the `seconds` of the
# run's metrics.jsonl, PyTorch's is bench/torch_cnn.py's.
#
# Environment (bench/common.sh for the rest):
#   MINNOW_BENCH_OUT      default bench/out/cnn-<timestamp>
#   MINNOW_BENCH_THREADS  PyTorch threads (default: nproc); minnow uses every core
#   MINNOW_BENCH_REPEAT   rounds (default 1), alternating which side goes first; the table shows
#                         each side's fastest round (the least disturbed by other load)
#   MINNOW_BENCH_MODELS   default "cnn29k cnn6k"
#   MINNOW_BENCH_DEVICE   minnow's --device (default ndarray; flex needs a build with
#                         `--features flex`)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_out "$ROOT/bench/out/cnn-$(date +%Y%m%d-%H%M%S)"
MODELS="${MINNOW_BENCH_MODELS:-cnn29k cnn6k}"
DEVICE="${MINNOW_BENCH_DEVICE:-ndarray}"
LIMIT=10000
VAL=0.01
echo "MNIST: $MNIST" >&2
echo "output: $OUT" >&2
loadavg() { cut -d' ' -f1 /proc/loadavg; }

torch_venv torch numpy
minnow_binary

# The network of each model, as minnow's settings (the same as bench/torch_cnn.py's MODELS).
net_toml() {
    case "$1" in
    cnn29k) printf 'channels = [16, 32, 64]\nhidden = []\n' ;;
    cnn6k) printf 'channels = [4, 8, 16]\nhidden = [32]\n' ;;
    *) echo "unknown model $1" >&2; return 1 ;;
    esac
}

minnow_epoch() { # model round
    local run="$OUT/minnow-$1-$2"
    rm -rf "$run"
    { echo "out = \"$run\""; echo 'arch = "cnn"'; net_toml "$1"
      cat <<EOF
members = 1
jitter = 0
dropout = 0.0
epochs = 1
batch_size = 128
learning_rate = 0.001
weight_decay = 0.0
val_fraction = $VAL
test_fraction = 0.2
train_limit = $LIMIT
split_seed = 0
seed = 0
quiet = true
device = "$DEVICE"

[data]
kind = "mnist"
dir = "$MNIST"
split = "train"
EOF
    } >"$run.toml"
    "${MINNOW[@]}" train-teacher --config "$run.toml" >"$run.log" 2>&1 || { tail -n 20 "$run.log" >&2; return 1; }
    python3 - "$1" "$2" "$run/metrics.jsonl" "$(loadavg)" >>"$OUT/epochs.jsonl" <<'PY'
import json, sys
model, rnd, metrics, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
seconds = json.loads(open(metrics).read().splitlines()[-1])["seconds"]
print(json.dumps({"impl": "minnow", "phase": model, "seconds": seconds, "round": rnd, "load": load}))
PY
}

torch_epoch() { # model round
    "$VENV/bin/python" "$ROOT/bench/torch_cnn.py" --mnist "$MNIST" --models "$1" --threads "$THREADS" \
        --limit "$LIMIT" --val-fraction "$VAL" |
        python3 -c 'import json,sys
for l in sys.stdin: r = json.loads(l); r["round"] = int(sys.argv[1]); r["load"] = sys.argv[2]; print(json.dumps(r))' "$2" "$(loadavg)" >>"$OUT/epochs.jsonl"
}

: >"$OUT/epochs.jsonl"
for round in $(seq 1 "$REPEAT"); do
    for model in $MODELS; do
        echo "$model (round $round) ..." >&2
        if [ $((round % 2)) = 1 ]; then minnow_epoch "$model" "$round"; torch_epoch "$model" "$round"
        else torch_epoch "$model" "$round"; minnow_epoch "$model" "$round"; fi
    done
done

python3 - "$OUT/epochs.jsonl" "$(nproc)" "$THREADS" "$DEVICE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
models = list(dict.fromkeys(r["phase"] for r in rows))
best = lambda impl, m: min((r for r in rows if r["impl"] == impl and r["phase"] == m), key=lambda r: r["seconds"], default=None)
print(f"{'model':<8} {'minnow s':>12} {'PyTorch s':>12} {'minnow/PyTorch':>15}   every round (seconds @ 1-minute load)")
for m in models:
    a, b = best("minnow", m), best("pytorch", m)
    ratio = f"{a['seconds'] / b['seconds']:.2f}" if a and b else "n/a"
    rounds = "; ".join(f"{r['impl']} {r['seconds']:.2f}@{r['load']}" for r in rows if r["phase"] == m)
    cell = lambda r: f"{r['seconds']:.2f}@{r['load']}" if r else "n/a"
    print(f"{m:<8} {cell(a):>12} {cell(b):>12} {ratio:>15}   {rounds}")
t = next((r for r in rows if r["impl"] == "pytorch"), {})
print(f"\nminnow on --device {sys.argv[4]}; PyTorch {t.get('torch')} on {sys.argv[3]} threads; {sys.argv[2]} cores; one epoch of 10,000 images, batch 128, Adam 1e-3; fastest round of each side.")
PY
