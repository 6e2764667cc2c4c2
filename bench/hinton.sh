#!/usr/bin/env bash
# The MNIST section of Hinton, Vinyals & Dean (2015), "Distilling the Knowledge in a Neural
# Network", row by row, on the shared MNIST files and a 2-core CPU:
#
#   teacher     784-1200-1200-10, dropout (20 % on the inputs, 50 % on hidden units), a max-norm
#               constraint on each unit's incoming weights, SGD with momentum ramped up and an
#               exponentially decaying rate, inputs jittered by up to 2 pixels   (paper: 67 errors)
#   hard        784-800-800-10 on hard labels, no regularization, 3 seeds       (paper: 146)
#   t20         the same distilled at T = 20 from the teacher's soft targets
#               alone (cached logits of the unjittered transfer set), 3 seeds     (paper: 74)
#   no3         t20 with no 3s in the transfer set; class 3's bias shift chosen
#               on the validation split                        (paper: 206, 109 with a shift of 3.5)
#   only78      t20 with only 7s and 8s in the transfer set; the present classes'
#               bias lowered by the shift chosen on validation (paper: 47.3 %, 13.2 % with 7.6)
#   table       docs-ready Markdown: paper | here | how (epochs, wall time, seeds)
#
# Run by hand, NOT in CI:   bash bench/hinton.sh            (or: bash bench/hinton.sh ROW...)
# Every step is skipped when its summary.json exists, so a killed run continues where it
# stopped (a killed training step resumes from its checkpoint: delete its folder to redo it).
# Each step leaves STEP.cmd (the exact command), STEP.wall (wall seconds) and STEP.log in $OUT.
#
# Environment:
#   MINNOW_MNIST_DIR     MNIST IDX files (default: ../shared/data/mnist from the repo root)
#   MINNOW_HINTON_OUT    run folders (default: runs/hinton, gitignored)
#   MINNOW_BIN           the minnow binary (default: target/release/minnow; build it first with
#                        cargo build --release -p minnow)
#   MINNOW_HINTON_TEACHER_EPOCHS (90)  MINNOW_HINTON_STUDENT_EPOCHS (30)
#   MINNOW_HINTON_SEEDS  seeds of the compared rows (default: 0 1 2)
set -euo pipefail
# One { ...; exit; } block: bash reads all of it before running any, so editing this file
# while a long run executes it cannot change that run.
{

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MNIST=${MINNOW_MNIST_DIR:-$ROOT/../shared/data/mnist}
OUT=${MINNOW_HINTON_OUT:-runs/hinton}
BIN=${MINNOW_BIN:-target/release/minnow}
TEACHER_EPOCHS=${MINNOW_HINTON_TEACHER_EPOCHS:-90}
STUDENT_EPOCHS=${MINNOW_HINTON_STUDENT_EPOCHS:-30}
SEEDS=${MINNOW_HINTON_SEEDS:-0 1 2}
mkdir -p "$OUT"

# The official split: 55,000 training and 5,000 validation images from the training files
# (seed 0), the 10,000 t10k images as the test set. Every choice is made on validation.
DATA=(--mnist "$MNIST" --val-fraction 0.0833333 --split-seed 0)

# The optimizer of every row (Hinton et al. 2012's form of momentum, v = p v + (1 - p) g):
# momentum from 0.5 to 0.99 (over 40 epochs for the teacher, a third of the epochs for the
# students), the rate times --lr-decay per epoch, batches of 100. The rates were chosen on the
# validation split of short probes (teacher, 4 epochs: 0.3 ahead of 1.0; students at T = 20,
# 2 epochs: 0.3 diverged, 0.1 ahead of 0.03).
SGD=(--optimizer sgd --momentum 0.99 --momentum-start 0.5 --lr-schedule exponential
  --batch-size 100 --weight-decay 0)
TEACHER_RECIPE=(--hidden 1200,1200 --input-dropout 0.2 --dropout 0.5 --max-norm 3.5 --jitter 2
  --learning-rate 0.3 --lr-decay 0.97 --momentum-epochs 40)
STUDENT_RECIPE=(--hidden 800,800 --dropout 0 --jitter 0 --lr-decay 0.9
  --momentum-epochs $((STUDENT_EPOCHS / 3)))

# step NAME DONE minnow-args... (a killed training step is resumed).
source "$ROOT/bench/step.sh"

teacher() {
  step teacher "$OUT/teacher/summary.json" train-teacher "${DATA[@]}" "${SGD[@]}" "${TEACHER_RECIPE[@]}" \
    --epochs "$TEACHER_EPOCHS" --seed 0 --quiet --out "$OUT/teacher"
}

# student NAME SEED [distill-args...]: a 784-800-800-10 student with the student recipe, at
# rate RATE (default 0.1).
student() {
  local name=$1 seed=$2
  shift 2
  step "$name" "$OUT/$name/summary.json" distill "${DATA[@]}" "${SGD[@]}" "${STUDENT_RECIPE[@]}" \
    --learning-rate "${RATE:-0.1}" \
    --epochs "$STUDENT_EPOCHS" --seed "$seed" --quiet --out "$OUT/$name" "$@"
}

# Distilled from the teacher at T = 20 on soft targets alone, from its cached logits.
T20=(--teacher "$OUT/teacher" --teacher-logits "$OUT/teacher/logits.npy" --temperature 20
  --soft-weight 1 --hard-weight 0)

hard() {
  local s
  for s in $SEEDS; do student "hard-s$s" "$s" --soft-weight 0 --hard-weight 1; done
}

t20() {
  teacher
  local s
  for s in $SEEDS; do student "t20-s$s" "$s" "${T20[@]}"; done
}

# The transfer sets without classes get their own logit caches (the cache is of the transfer
# set, which omitting classes changes).
no3() {
  teacher
  student no3 0 "${T20[@]/logits.npy/logits-no3.npy}" --omit-classes 3
}

# At the students' rate (0.1) this run diverged in its first epoch: a transfer set of two
# classes moves the other eight logits by the soft targets alone. 0.03 (the probes' runner-up).
only78() {
  teacher
  RATE=0.03 student only78 0 "${T20[@]/logits.npy/logits-only78.npy}" \
    --omit-classes 0,1,2,3,4,5,6,9
}

table() {
  python3 "$ROOT/bench/hinton_table.py" "$OUT"
}

ROWS=${*:-teacher hard t20 no3 only78 table}
for row in $ROWS; do
  "$row"
done
exit
}
