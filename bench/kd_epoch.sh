#!/usr/bin/env bash
# One epoch each, minnow and PyTorch in the same run, on MNIST:
#   teacher    784-1200-1200-10 trained on hard labels
#   kd-live    784-800-800-10 distilled at T=20, the teacher run live on every batch
#   kd-cached  784-32-10 distilled at T=20 from cached teacher logits (docs/logit-cache.md)
# all with batch 128 and Adam lr 1e-3. Prints seconds per epoch and minnow/PyTorch.
#
# Run by hand, not in CI:   bash bench/kd_epoch.sh
#
# Environment:
#   MINNOW_MNIST_DIR      MNIST IDX files (default: ../shared/data/mnist from the repo root)
#   MINNOW_BENCH_OUT      where runs and results go (default: bench/out/<timestamp>, gitignored)
#   MINNOW_BENCH_THREADS  PyTorch threads (default: nproc)
#   MINNOW_BENCH_ONLY     both (default) | minnow | pytorch
#   MINNOW_BENCH_REPEAT   rounds (default 1); rounds alternate which side goes first, and the table
#                         shows each side's fastest round (the least disturbed by other load)
#   MINNOW_BIN            command that runs minnow (default: the binary `cargo build --release -p
#                         minnow` makes, copied into the output folder first: other engineers edit
#                         this tree, and `cargo run` would rebuild, or fail, between rounds)
#   MINNOW_BENCH_LIMIT    train on the first N training samples only (a quick smoke test)
#   MINNOW_BENCH_DEVICE   minnow's --device (default ndarray; flex needs a build with
#                         `--features flex`)
#   OMP_WAIT_POLICY       PyTorch's OpenMP idle policy (default here: PASSIVE, see below)
#
# What is timed, on both sides: the epoch loop (shuffle, batch gather with jitter where on,
# forward, loss, backward, Adam step) plus the validation forward pass that ends each epoch.
# minnow's figure is the `seconds` field of the run's metrics.jsonl; loading MNIST, building the
# model, computing/reading the cached logits and the final test evaluation are outside it, as in
# bench/torch_kd.py. Both sides hold out 10 % validation and 20 % test of the 60 000 training
# images (minnow's defaults), so an epoch trains on ~42 000 samples.
#
# minnow runs the teacher live only when augmentation is on (otherwise it computes the teacher's
# logits once, up front), so kd-live uses 1-pixel input jitter on both sides.
#
# PyTorch comes from PyPI into bench/.venv (the only index reachable here). PyPI's Linux wheel is
# the CUDA build: ~3 GB of downloads, ~5.4 GB installed, about 2 minutes on a fast link; it runs
# on the CPU without a GPU. The machine is shared: the load average is printed with the results,
# and figures taken under load are not comparable with quiet-machine figures.
#
# OMP_WAIT_POLICY=PASSIVE: PyTorch's OpenMP threads spin-wait by default, which collapses when
# the cores are shared. Measured here with load average ~3.5 on 2 cores, a 128x1200x1200 sgemm
# ran at 70 GFLOP/s on 1 thread, 16 on 2 threads (default policy) and 62 on 2 threads with
# PASSIVE. minnow's thread pool (rayon) sleeps when idle, so PASSIVE is the like-for-like
# setting; set OMP_WAIT_POLICY=ACTIVE to measure PyTorch's default on a quiet machine.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_out "$ROOT/bench/out/$(date +%Y%m%d-%H%M%S)"
ONLY="${MINNOW_BENCH_ONLY:-both}"
MINNOW=()

# The settings both sides use.
BATCH=128
LR=0.001
T=20.0
VAL=0.1
TEST=0.2
SEED=0
LIVE_JITTER=1
LIMIT="${MINNOW_BENCH_LIMIT:-0}"

echo "MNIST: $MNIST" >&2
echo "output: $OUT" >&2
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------- PyTorch
torch_setup() {
    torch_venv torch numpy
}

torch_half() { # round
    echo "pytorch (round $1): OMP_WAIT_POLICY=$OMP_WAIT_POLICY, load average before $(loadavg)" >&2
    "$VENV/bin/python" "$ROOT/bench/torch_kd.py" --mnist "$MNIST" --threads "$THREADS" \
        --batch "$BATCH" --lr "$LR" --temperature "$T" --alpha 1.0 --weight-decay 0 \
        --teacher-dropout 0 --live-jitter "$LIVE_JITTER" --val-fraction "$VAL" \
        --test-fraction "$TEST" --seed "$SEED" --limit "$LIMIT" |
        python3 -c 'import json,sys
for l in sys.stdin: r = json.loads(l); r["round"] = int(sys.argv[1]); r["load"] = open("/proc/loadavg").read().split()[0]; print(json.dumps(r), flush=True)' "$1" \
            >>"$OUT/pytorch.jsonl"
    echo "pytorch (round $1): load average after  $(loadavg)" >&2
}

# ---------------------------------------------------------------- minnow
# The runs are described as config files (every CLI flag has a config key of the same name,
# see trainer/src/config.rs), so the script does not depend on flag spellings.
common_toml() {
    cat <<EOF
val_fraction = $VAL
test_fraction = $TEST
split_seed = $SEED
arch = "mlp"
dropout = 0.0
epochs = 1
batch_size = $BATCH
learning_rate = $LR
weight_decay = 0.0
seed = $SEED
quiet = true
device = "${MINNOW_BENCH_DEVICE:-ndarray}"
EOF
    if [ "$LIMIT" != 0 ]; then echo "train_limit = $LIMIT"; fi
}
data_toml() {
    printf '\n[data]\nkind = "mnist"\ndir = "%s"\nsplit = "train"\n' "$MNIST"
}

# metrics.jsonl of a run folder -> the epoch's seconds.
epoch_seconds() {
    local f
    f="$(find "$1" -name metrics.jsonl | head -n1)"
    [ -n "$f" ] || { echo "no metrics.jsonl under $1" >&2; return 1; }
    python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["seconds"])' "$f"
}

minnow_run() { # round phase command config run-dir
    local round="$1" phase="$2" cmd="$3" cfg="$4" dir="$5"
    local log="$dir.log"
    echo "minnow (round $round): $phase ..." >&2
    "${MINNOW[@]}" "$cmd" --config "$cfg" >"$log" 2>&1 ||
        { echo "minnow $cmd failed; see $log:" >&2; tail -n 20 "$log" >&2; return 1; }
    python3 - "$round" "$phase" "$(epoch_seconds "$dir")" "$dir" >>"$OUT/minnow.jsonl" <<'EOF'
import json, sys
rnd, phase, seconds, run = int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
load = open("/proc/loadavg").read().split()[0]
print(json.dumps({"impl": "minnow", "phase": phase, "seconds": seconds, "round": rnd, "load": load, "run": run}))
EOF
}

MINNOW_READY=0
minnow_setup() {
    minnow_binary
    if ! "${MINNOW[@]}" --help 2>&1 | grep -q 'train-teacher' || ! "${MINNOW[@]}" --help 2>&1 | grep -q 'distill'; then
        echo "minnow: WAITING ON THE CLI: \`minnow --help\` lists no train-teacher/distill subcommands yet; minnow column left empty" >&2
        return 0
    fi
    MINNOW_READY=1
}

minnow_half() { # round
    [ "$MINNOW_READY" = 1 ] || return 0
    local m="$OUT/minnow/round-$1"
    mkdir -p "$m"
    { echo "out = \"$m/teacher\""; echo 'hidden = [1200, 1200]'; echo 'members = 1'; echo 'jitter = 0'; common_toml; data_toml; } >"$m/teacher.toml"
    { echo "out = \"$m/kd-live\""; echo "teacher = [\"$m/teacher\"]"; echo "temperature = $T"; echo 'soft_weight = 1.0'; echo 'hard_weight = 0.0'
      echo 'hidden = [800, 800]'; echo "jitter = $LIVE_JITTER"; common_toml; data_toml; } >"$m/kd-live.toml"
    for run in kd-cached-prime kd-cached; do
        { echo "out = \"$m/$run\""; echo "teacher = [\"$m/teacher\"]"; echo "teacher_logits = \"$m/teacher-logits.npy\""; echo "temperature = $T"
          echo 'soft_weight = 1.0'; echo 'hard_weight = 0.0'; echo 'hidden = [32]'; echo 'jitter = 0'; common_toml; data_toml; } >"$m/$run.toml"
    done
    echo "minnow (round $1): load average before $(loadavg)" >&2
    minnow_run "$1" teacher train-teacher "$m/teacher.toml" "$m/teacher" || return 1
    minnow_run "$1" kd-live distill "$m/kd-live.toml" "$m/kd-live" || return 1
    # The first run computes the teacher's logits and writes the cache; the timed run reads it.
    "${MINNOW[@]}" distill --config "$m/kd-cached-prime.toml" >"$m/kd-cached-prime.log" 2>&1 ||
        { echo "minnow distill (cache) failed; see $m/kd-cached-prime.log" >&2; return 1; }
    minnow_run "$1" kd-cached distill "$m/kd-cached.toml" "$m/kd-cached" || return 1
    echo "minnow (round $1): load average after  $(loadavg)" >&2
}

case "$ONLY" in
both | pytorch | minnow) ;;
*) echo "MINNOW_BENCH_ONLY must be both, minnow or pytorch" >&2; exit 2 ;;
esac
: >"$OUT/pytorch.jsonl"
: >"$OUT/minnow.jsonl"
[ "$ONLY" = minnow ] || torch_setup
[ "$ONLY" = pytorch ] || minnow_setup
for round in $(seq 1 "$REPEAT"); do
    if [ $((round % 2)) = 1 ]; then
        [ "$ONLY" = minnow ] || torch_half "$round"
        [ "$ONLY" = pytorch ] || minnow_half "$round" || echo "minnow (round $round) failed" >&2
    else
        [ "$ONLY" = pytorch ] || minnow_half "$round" || echo "minnow (round $round) failed" >&2
        [ "$ONLY" = minnow ] || torch_half "$round"
    fi
done

# ---------------------------------------------------------------- table
python3 - "$OUT" "$(nproc)" <<'EOF'
import json, os, sys
out, cores = sys.argv[1], sys.argv[2]
def load(name):
    p = os.path.join(out, name)
    by_phase = {}
    for line in open(p) if os.path.exists(p) else []:
        r = json.loads(line)
        by_phase.setdefault(r["phase"], []).append(r)
    return by_phase
m, t = load("minnow.jsonl"), load("pytorch.jsonl")
what = {
    "teacher": "784-1200-1200-10, hard labels",
    "kd-live": "784-800-800-10, T=20, teacher live",
    "kd-cached": "784-32-10, T=20, cached logits",
}
fastest = lambda rows: min((r["seconds"] for r in rows), default=None)
fmt = "{:<10} {:<36} {:>8} {:>10} {:>11} {:>15}"
print(fmt.format("phase", "what", "samples", "minnow s", "PyTorch s", "minnow/PyTorch"))
for phase, desc in what.items():
    ms, ts = fastest(m.get(phase, [])), fastest(t.get(phase, []))
    n = t[phase][0].get("samples", "") if t.get(phase) else ""
    cell = lambda v: f"{v:.3f}" if v is not None else "n/a"
    ratio = f"{ms / ts:.2f}" if ms is not None and ts else "n/a"
    print(fmt.format(phase, desc, n, cell(ms), cell(ts), ratio))
rounds = max([r["round"] for rows in list(m.values()) + list(t.values()) for r in rows], default=0)
if rounds > 1:
    print(f"\nfastest of {rounds} rounds; every round (seconds @ 1-min load average):")
    for phase in what:
        for name, d in (("minnow", m), ("PyTorch", t)):
            runs = ", ".join(f"{r['seconds']:.2f}@{r['load']}" for r in d.get(phase, []))
            print(f"  {phase:<10} {name:<8} {runs}")
if t:
    any_t = next(iter(t.values()))[0]
    print(f"\nPyTorch {any_t.get('torch')} with {any_t.get('threads')} threads (OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}); {cores} cores; batch 128, Adam 1e-3; one epoch each.")
    if "kd-cached" in t:
        print(f"PyTorch teacher pass to fill the cache (untimed above): {', '.join(str(r.get('cache_seconds')) for r in t['kd-cached'])} s")
if not m:
    print("minnow: no results (see the messages above: the CLI may not be ready).")
print(f"results: {out}/pytorch.jsonl, {out}/minnow.jsonl")
EOF
