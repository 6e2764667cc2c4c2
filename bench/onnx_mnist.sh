#!/usr/bin/env bash
# A teacher trained in PyTorch, distilled by minnow through ONNX (docs/results.md, "A PyTorch
# teacher through ONNX"): MNIST, by hand, not in CI.
#
#   1. bench/torch_onnx_teacher.py trains the CNN teacher (conv 32, 64 + 128 hidden) on the
#      60,000 training images, pixels / 255, and exports it to ONNX (NCHW input, dynamic batch);
#   2. `minnow teacher-info` describes it and scores it on the 10,000 test images through tract;
#   3. `minnow distill` distils a 784-40-10 MLP from it, the teacher run live by tract on every
#      batch of 1-pixel-jittered images;
#   4. `minnow export --max-flash 32k --teacher teacher.onnx` (int8, the teacher's columns) and
#      `minnow verify --core m4` (QEMU, bit-exact on the golden vectors).
#
# Environment: MINNOW_MNIST_DIR (default ../shared/data/mnist), MINNOW_BENCH_OUT (default
# bench/out/onnx-mnist), MINNOW_TEACHER_EPOCHS (3), MINNOW_STUDENT_EPOCHS (20),
# MINNOW_BIN (default: a copy of the release build, its `git describe` in minnow-bin.version).
# A teacher already at OUT/teacher-cnn.onnx is reused. Everything printed also goes to
# OUT/run.log.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
bench_out "$ROOT/bench/out/onnx-mnist"
SCALE=0.00392156862745098
exec > >(tee -a "$OUT/run.log") 2>&1

torch_venv torch numpy onnx
minnow_binary
run() { echo "+ $*" >&2; "$@"; }

TEACHER="$OUT/teacher-cnn.onnx"
if [ ! -f "$TEACHER" ]; then
    run "$VENV/bin/python" bench/torch_onnx_teacher.py train --mnist "$MNIST" --arch cnn \
        --epochs "${MINNOW_TEACHER_EPOCHS:-3}" --out "$TEACHER" | tee "$OUT/teacher.json"
fi
run "${MINNOW[@]}" teacher-info "$TEACHER" --mnist "$MNIST" --teacher-scale "$SCALE" | tee "$OUT/teacher-info.txt"

STUDENT="$OUT/mlp40j1-T4-from-onnx"
run "${MINNOW[@]}" distill --mnist "$MNIST" --val-fraction 0.0833333 --teacher "$TEACHER" \
    --teacher-scale "$SCALE" --jitter 1 --hidden 40 --temperature 4 --hard-weight 0.1 \
    --epochs "${MINNOW_STUDENT_EPOCHS:-20}" --batch-size 128 --learning-rate 1e-3 --quiet --out "$STUDENT"
run "${MINNOW[@]}" export "$STUDENT" --max-flash 32k --golden 200 --teacher "$TEACHER"
run "${MINNOW[@]}" verify "$STUDENT" --core m4
python3 - "$STUDENT" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1] + "/report.json"))
d, f = r.get("device") or {}, r["footprint"]
print(f"teacher accuracy {r['teacher']['accuracy']:.4f}; float student {r['student_float']['accuracy']:.4f}; "
      f"int8 {r['student_int8']['accuracy']:.4f} (agreement with the teacher {r['student_int8']['teacher_agreement']:.4f}); "
      f"blob {f['blob_bytes']} B; device: {d.get('vectors')} vectors, {d.get('mismatches')} mismatches on {d.get('core')}")
EOF
