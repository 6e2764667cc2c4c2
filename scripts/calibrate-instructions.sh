#!/usr/bin/env bash
# Calibrates minnow fit's instruction model (trainer/src/fit/instructions.json) and states its
# error (docs/instructions.md). Students of 22 architectures (MLPs, CNNs with and without a
# strided first convolution, depthwise CNNs, a 1-D CNN; 8x8 digits, 28x28 MNIST-shaped and
# 32-step sensor windows) are trained briefly on hard labels (instruction counts depend on the
# shapes, not on how well the weights are trained), exported with 20 golden vectors, run on the
# five QEMU cores with the release firmware, and fitted: per core and layer kind, a linear law
# over MACs, outputs, gathered values, output pixels and 1.
#
# Usage: scripts/calibrate-instructions.sh [WORK_DIR]
#   MINNOW  the minnow binary (default: target/release/minnow, built if missing)
#   MNIST   a folder with the MNIST IDX files (default: ../shared/data/mnist)
# Takes about 25 minutes on 2 cores (a firmware build per student and core family).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$root/target/calibrate-instructions}
mnist=${MNIST:-$root/../shared/data/mnist}
minnow=${MINNOW:-$root/target/release/minnow}
if [[ ! -x $minnow ]]; then
    (cd "$root" && cargo build --release -p minnow)
fi
mkdir -p "$work"

# 32-step, 3-axis windows of 3 classes (sines of three frequencies and noise), as .npy.
sensor_x=$work/sensor-x.npy
sensor_y=$work/sensor-y.npy
python3 - "$sensor_x" "$sensor_y" <<'EOF'
import math, random, struct, sys
def npy(path, descr, shape, data, fmt):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape))
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(data), fmt), *data))
rng = random.Random(7)
n, steps, axes = 300, 32, 3
xs, ys = [], []
for i in range(n):
    label = i % 3
    phase = rng.uniform(0, 6.28)
    for t in range(steps):
        for a in range(axes):
            xs.append(math.sin((label + 1) * 0.3 * t + phase + a) + rng.gauss(0, 0.3))
    ys.append(label)
npy(sys.argv[1], "<f4", (n, steps, 1, axes), xs, "f")
npy(sys.argv[2], "<i8", (n,), ys, "q")
EOF

digits=(--data digits)
mnist_data=(--mnist "$mnist" --train-limit 600)
sensor=(--npy "$sensor_x" "$sensor_y" --shape 32,1,3)
runs=(
    "digits-mlp-linear|${digits[*]}|--arch mlp --hidden"
    "digits-mlp-16|${digits[*]}|--arch mlp --hidden 16"
    "digits-mlp-64-32|${digits[*]}|--arch mlp --hidden 64,32"
    "digits-mlp-256-128|${digits[*]}|--arch mlp --hidden 256,128"
    "digits-cnn-4-8|${digits[*]}|--arch cnn --channels 4,8 --hidden"
    "digits-cnn-8-16-h32|${digits[*]}|--arch cnn --channels 8,16 --hidden 32"
    "digits-cnn-s2-8-16|${digits[*]}|--arch cnn --channels 8,16 --stride 2 --hidden"
    "digits-cnn-2-4-8|${digits[*]}|--arch cnn --channels 2,4,8 --hidden"
    "digits-dwcnn-8-16|${digits[*]}|--arch dwcnn --channels 8,16 --hidden"
    "mnist-mlp-32|${mnist_data[*]}|--arch mlp --hidden 32"
    "mnist-cnn-8-16-h32|${mnist_data[*]}|--arch cnn --channels 8,16 --hidden 32"
    "mnist-cnn-4-8-16|${mnist_data[*]}|--arch cnn --channels 4,8,16 --hidden"
    "mnist-cnn-s2-8-16|${mnist_data[*]}|--arch cnn --channels 8,16 --stride 2 --hidden"
    "mnist-dwcnn-4-8-h16|${mnist_data[*]}|--arch dwcnn --channels 4,8 --hidden 16"
    "mnist-dwcnn-s2-16-32|${mnist_data[*]}|--arch dwcnn --channels 16,32 --stride 2 --hidden"
    "sensor-cnn1d-8-16|${sensor[*]}|--arch cnn1d --channels 8,16 --hidden"
    "digits-dwcnn-4-8|${digits[*]}|--arch dwcnn --channels 4,8 --hidden"
    "digits-dwcnn-s2-6-12|${digits[*]}|--arch dwcnn --channels 6,12 --stride 2 --hidden"
    "digits-cnn-12-24-h16|${digits[*]}|--arch cnn --channels 12,24 --hidden 16"
    "mnist-cnn-s2-4-8-16|${mnist_data[*]}|--arch cnn --channels 4,8,16 --stride 2 --hidden"
    "mnist-dwcnn-s2-8-16-h16|${mnist_data[*]}|--arch dwcnn --channels 8,16 --stride 2 --hidden 16"
    "sensor-cnn1d-4-8-h16|${sensor[*]}|--arch cnn1d --channels 4,8 --hidden 16"
)
dirs=()
for spec in "${runs[@]}"; do
    IFS='|' read -r name data net <<<"$spec"
    dir=$work/$name
    dirs+=("$dir")
    if [[ -f $dir/matrix/mps2-an505.log ]] && grep -q '^perf ' "$dir/matrix/mps2-an505.log"; then
        continue # measured before
    fi
    echo "=== $name ==="
    rm -rf "$dir"
    # shellcheck disable=SC2086 # the data and net flags are word lists
    "$minnow" distill $data $net --soft-weight 0 --hard-weight 1 --epochs 1 --quiet --out "$dir"
    "$minnow" export "$dir" --golden 20 >/dev/null 2>&1
    # A board whose RAM cannot hold a student fails to build for it: the other boards' runs
    # still count (the fit skips a board without a finished run and says so).
    "$minnow" verify "$dir" --core all --logs "$dir/matrix" >/dev/null ||
        echo "$name: not every board ran it (see $dir/matrix)"
done
"$minnow" calibrate-instructions "${dirs[@]}" \
    --model "$root/trainer/src/fit/instructions.json" \
    --errors "$root/docs/instructions.md" \
    --calibrated-on "QEMU -icount shift=0, release firmware (opt for size), ${#dirs[@]} students: scripts/calibrate-instructions.sh"
echo "model: trainer/src/fit/instructions.json; its error: docs/instructions.md"
