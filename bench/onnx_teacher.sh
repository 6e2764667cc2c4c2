#!/usr/bin/env bash
# ONNX teachers, minnow (tract) and PyTorch side by side in one run, on MNIST:
#   forward   teacher inference over the 10,000 test images: `minnow teacher-info FILE.onnx
#             --mnist` (tract, every core) against PyTorch's CPU inference of the same weights
#             (bench/torch_onnx_teacher.py throughput, nproc threads), for the 784-1200-1200-10
#             MLP and a CNN teacher (conv 32, 64 + 128 hidden); images/s and tract/PyTorch
#             (target >= 1). Then the same with both pinned to one core (taskset -c 0, PyTorch
#             on 1 thread): the figure other load on a shared machine disturbs least.
#   kd-live   one KD epoch of the 784-800-800-10 student at T=20, batch 128, Adam 1e-3, 1-pixel
#             jitter, the teacher live on every batch: minnow with the MLP teacher as ONNX
#             against PyTorch's kd-live epoch (bench/torch_kd.py, its own 784-1200-1200-10
#             teacher); seconds and minnow/PyTorch (the `seconds` of the run's metrics.jsonl, as
#             bench/kd_epoch.sh)
# The teachers are trained and exported by bench/torch_onnx_teacher.py (pixels / 255, so minnow
# runs them with --teacher-scale 1/255); 2 epochs each by default (the weights do not change the
# timings). A teacher already in the output folder (MLP: mlp.onnx + mlp.onnx.pt, CNN: cnn.onnx +
# cnn.onnx.pt) is reused.
#
# What is timed, on both sides: one pass of the model over the 10,000 test images, the model
# already loaded and run once (tract's plan is optimised and probed on one sample when the
# teacher loads; PyTorch runs one batch as a warm-up), the images already in memory. tract gets
# the raw pixels and applies x * scale itself; PyTorch gets them already divided by 255. Each
# side batches as it would in use: tract blocks of 64 samples per core, PyTorch batches of 256
# over its threads. The KD epoch is timed as bench/kd_epoch.sh times it.
#
# Run by hand, not in CI:   bash bench/onnx_teacher.sh
#
# Environment (as bench/kd_epoch.sh):
#   MINNOW_MNIST_DIR      MNIST IDX files (default: ../shared/data/mnist from the repo root)
#   MINNOW_BENCH_OUT      where models, runs and results go (default: bench/out/onnx-<timestamp>)
#   MINNOW_BENCH_THREADS  PyTorch threads (default: nproc); tract uses every core
#   MINNOW_BENCH_REPEAT   rounds (default 1), alternating which side goes first; the table shows
#                         each side's best round
#   MINNOW_BENCH_EPOCHS   epochs of teacher training (default 2)
#   MINNOW_BIN            command that runs minnow (default: a copy of the release build)
#   OMP_WAIT_POLICY       default PASSIVE (bench/kd_epoch.sh says why)
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_out "$ROOT/bench/out/onnx-$(date +%Y%m%d-%H%M%S)"
EPOCHS="${MINNOW_BENCH_EPOCHS:-2}"
SCALE=0.00392156862745098
echo "MNIST: $MNIST" >&2
echo "output: $OUT" >&2
loadavg() { cut -d' ' -f1 /proc/loadavg; }

torch_venv torch numpy onnx
PY=("$VENV/bin/python" "$ROOT/bench/torch_onnx_teacher.py")

minnow_binary

for arch in mlp cnn; do
    if [ ! -f "$OUT/$arch.onnx" ]; then
        echo "training the $arch teacher in PyTorch ($EPOCHS epochs) ..." >&2
        "${PY[@]}" train --mnist "$MNIST" --arch "$arch" --epochs "$EPOCHS" --out "$OUT/$arch.onnx" >>"$OUT/teachers.jsonl"
    fi
done

: >"$OUT/forward.jsonl"
: >"$OUT/kd.jsonl"
# cores: "all" (tract on every core, PyTorch on $THREADS threads) or "1" (both pinned to CPU 0
# with taskset, PyTorch on 1 thread; tract sees one CPU in its affinity mask and runs 1 thread).
pin() { if [ "$1" = 1 ]; then echo "taskset -c 0"; fi; }
minnow_forward() { # arch round cores
    local line
    # shellcheck disable=SC2046
    line="$($(pin "$3") "${MINNOW[@]}" teacher-info "$OUT/$1.onnx" --mnist "$MNIST" --teacher-scale "$SCALE" | tee "$OUT/$1-info-$2-$3.txt" | grep '^throughput')"
    python3 - "$1" "$2" "$3" "$line" "$(loadavg)" >>"$OUT/forward.jsonl" <<'EOF'
import json, sys
arch, rnd, cores, line, load = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
print(json.dumps({"impl": "minnow", "arch": arch, "cores": cores, "images_per_s": float(line.split()[1]), "round": rnd, "load": load, "line": line}))
EOF
}
torch_forward() { # arch round cores
    local threads="$THREADS"
    if [ "$3" = 1 ]; then threads=1; fi
    # shellcheck disable=SC2046
    $(pin "$3") "${PY[@]}" throughput --mnist "$MNIST" --arch "$1" --onnx "$OUT/$1.onnx" --threads "$threads" --repeat 1 |
        python3 -c 'import json,sys
for l in sys.stdin: r = json.loads(l); r["round"] = int(sys.argv[1]); r["cores"] = sys.argv[2]; r["load"] = sys.argv[3]; print(json.dumps(r))' "$2" "$3" "$(loadavg)" >>"$OUT/forward.jsonl"
}
minnow_kd() { # round
    local run="$OUT/kd-live-onnx-$1"
    rm -rf "$run"
    cat >"$run.toml" <<EOF
out = "$run"
teacher = ["$OUT/mlp.onnx"]
teacher_scale = $SCALE
temperature = 20.0
soft_weight = 1.0
hard_weight = 0.0
arch = "mlp"
hidden = [800, 800]
dropout = 0.0
jitter = 1
epochs = 1
batch_size = 128
learning_rate = 0.001
weight_decay = 0.0
val_fraction = 0.1
test_fraction = 0.2
split_seed = 0
seed = 0
quiet = true

[data]
kind = "mnist"
dir = "$MNIST"
split = "train"
EOF
    "${MINNOW[@]}" distill --config "$run.toml" >"$run.log" 2>&1 || { tail -n 20 "$run.log" >&2; return 1; }
    python3 - "$1" "$run/metrics.jsonl" "$(loadavg)" >>"$OUT/kd.jsonl" <<'EOF'
import json, sys
rnd, metrics, load = int(sys.argv[1]), sys.argv[2], sys.argv[3]
seconds = json.loads(open(metrics).read().splitlines()[-1])["seconds"]
print(json.dumps({"impl": "minnow", "phase": "kd-live", "seconds": seconds, "round": rnd, "load": load}))
EOF
}
torch_kd() { # round
    "$VENV/bin/python" "$ROOT/bench/torch_kd.py" --mnist "$MNIST" --threads "$THREADS" --batch 128 --lr 0.001 \
        --temperature 20 --alpha 1.0 --live-jitter 1 --val-fraction 0.1 --test-fraction 0.2 --seed 0 \
        --phases teacher,kd-live |
        python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l)
    if r["phase"] == "kd-live": r["round"] = int(sys.argv[1]); r["load"] = sys.argv[2]; print(json.dumps(r))' "$1" "$(loadavg)" >>"$OUT/kd.jsonl"
}

for round in $(seq 1 "$REPEAT"); do
    for cores in all 1; do
        for arch in mlp cnn; do
            echo "forward $arch on $cores core(s) (round $round) ..." >&2
            if [ $((round % 2)) = 1 ]; then minnow_forward "$arch" "$round" "$cores"; torch_forward "$arch" "$round" "$cores"
            else torch_forward "$arch" "$round" "$cores"; minnow_forward "$arch" "$round" "$cores"; fi
        done
    done
    echo "kd-live epoch (round $round) ..." >&2
    if [ $((round % 2)) = 1 ]; then minnow_kd "$round"; torch_kd "$round"
    else torch_kd "$round"; minnow_kd "$round"; fi
done

python3 - "$OUT" "$(nproc)" <<'EOF'
import json, os, sys
out, cores = sys.argv[1], sys.argv[2]
rows = lambda f: [json.loads(l) for l in open(os.path.join(out, f))]
fwd, kd = rows("forward.jsonl"), rows("kd.jsonl")
print(f"{'teacher forward (10,000 MNIST test images)':<44} {'cores':>5} {'tract img/s':>12} {'PyTorch img/s':>14} {'tract/PyTorch':>14}  per round")
for pinned in ("all", "1"):
    for arch, desc in (("mlp", "784-1200-1200-10 MLP"), ("cnn", "CNN conv 32, 64 + 128 hidden")):
        of = lambda impl: {r["round"]: r["images_per_s"] for r in fwd if r["impl"] == impl and r["arch"] == arch and r["cores"] == pinned}
        mr, tr = of("minnow"), of("pytorch")
        m, t = max(mr.values(), default=None), max(tr.values(), default=None)
        ratio = f"{m / t:.2f}" if m and t else "n/a"
        per = " ".join(f"{mr[k] / tr[k]:.2f}" for k in sorted(mr) if k in tr)
        label = cores if pinned == "all" else "1"
        print(f"{desc:<44} {label:>5} {m or 0:>12.0f} {t or 0:>14.0f} {ratio:>14}  {per}")
m = min((r["seconds"] for r in kd if r["impl"] == "minnow"), default=None)
t = min((r["seconds"] for r in kd if r["impl"] == "pytorch"), default=None)
print(f"\n{'KD epoch, 784-800-800-10 student, teacher live':<48} {'minnow s':>9} {'PyTorch s':>10} {'minnow/PyTorch':>15}")
ratio = f"{m / t:.2f}" if m and t else "n/a"
km = {r["round"]: r["seconds"] for r in kd if r["impl"] == "minnow"}
kt = {r["round"]: r["seconds"] for r in kd if r["impl"] == "pytorch"}
per = " ".join(f"{km[k] / kt[k]:.2f}" for k in sorted(km) if k in kt)
print(f"{'(minnow: ONNX teacher in tract; PyTorch: torch)':<48} {m or 0:>9.2f} {t or 0:>10.2f} {ratio:>15}  per round {per}")
torch_v = next((r.get("torch") for r in fwd if r["impl"] == "pytorch"), "?")
threads = next((r.get("threads") for r in fwd if r["impl"] == "pytorch" and r["cores"] == "all"), "?")
vf = os.path.join(out, "minnow-bin.version")
version = open(vf).read().strip() if os.path.exists(vf) else "MINNOW_BIN"
print(f"\nminnow {version} (tract on {cores} cores, or 1); PyTorch {torch_v}, {threads} threads (or 1), OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; best of each side's rounds.")
loads = sorted({r["load"] for r in fwd + kd})
print(f"1-min load averages during the rounds: {', '.join(loads)}")
print(f"results: {out}/forward.jsonl, {out}/kd.jsonl, {out}/teachers.jsonl")
EOF
