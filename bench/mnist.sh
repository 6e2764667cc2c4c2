#!/usr/bin/env bash
# MNIST at microcontroller scale: Hinton, Vinyals & Dean (2015)'s MNIST experiment on a 2-core
# budget, then int8 students under 32 KB and 16 KB of flash, hard labels vs distilled, each
# exported with a flash budget and verified bit for bit in QEMU on a Cortex-M4.
# Results: docs/results.md (table, written by bench/mnist_table.py) and docs/results.svg.
#
# Run by hand, NOT in CI:   bash bench/mnist.sh
# Wall time on the 2-core dev box (shared with other engineers' jobs; measured, sum of the
# STEP.wall files of one full run): 54 min in all. Teacher 287 s (20 epochs, 14 s/epoch),
# six 800x800 students 400 s (10 epochs, ~6.5 s/epoch), 38 MLP students 1,012 s (0.3-0.4
# s/epoch, 2.4-3.5 s/epoch with the teacher live), four CNN students 1,216 s (8 epochs, 24-62
# s/epoch), 42 exports 54 s, 42 QEMU verifies 262 s. Added later (2026-11-28, wall seconds
# beside 1-3 other runs): the three 32 KB CNNs 1,537-1,666 s each; the CNN teacher 1,504 s (8
# epochs); the 32 KB CNN distilled from it live 3,610 s (20 epochs) or from ens-cnn3 2,177 s
# (12); the 784-19/40-10 MLPs from its cached logits 30-120 s (30 epochs) and 60-615 s (150);
# the 16 KB CNN 190-350 s, jittered with the teacher live 874 s. Stage qat (fifth session,
# beside one other run): 3 QAT epochs 355-1,032 s per run, 6 epochs 484-979 s, exports ~30 s.
#
# Every step is skipped when its output exists, so a killed run continues where it stopped;
# delete a run folder to redo it. Each step leaves STEP.cmd (the exact command), STEP.wall
# (wall seconds) and STEP.log in $OUT.
#
# Environment:
#   MINNOW_MNIST_DIR     MNIST IDX files (default: ../shared/data/mnist from the repo root); the
#                        training files give train/val, the official t10k files the 10,000 test
#                        images (trainer/src/config.rs, DataConfig::split)
#   MINNOW_MNIST_OUT     run folders (default: runs/mnist, gitignored)
#   MINNOW_BIN           the minnow binary (default: target/release/minnow; build it first with
#                        cargo build --release -p minnow)
#   MINNOW_MNIST_STAGES  which stages, in order (default: all of
#                        "teacher cnn-teacher hinton mcu export verify table"; ens-cnn3 runs
#                        inside mcu, once the CNNs it is made of are trained; "calibration"
#                        (not in the default list) sweeps the int8 calibration of
#                        MINNOW_MNIST_CALIB_RUNS, see calibration() below); "qat" (not in
#                        the default list either) fine-tunes trained 32 KB students through
#                        the int8 rounding and exports them, see qat() below
#   MINNOW_MNIST_TEACHER_EPOCHS (20)  MINNOW_MNIST_HINTON_EPOCHS (10)  MINNOW_MNIST_MCU_EPOCHS (30)
#   MINNOW_MNIST_CNN_EPOCHS (8)  MINNOW_MNIST_LONG_EPOCHS (150)  MINNOW_MNIST_GRID, MINNOW_MNIST_CNN_GRID (see MCU_STUDENTS)
#   MINNOW_MNIST_ONLY    only the MCU students whose name is in this list (default: all)
#   MINNOW_MNIST_PARTS   which runs of each MCU family: "hard distilled" (default), or one of
#                        them, so that two invocations can train a family's runs side by side
set -euo pipefail
# The whole script is one { ...; exit; } block: bash reads it completely before running any of
# it, so editing this file while a (long) run executes it cannot change or break that run.
{

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MNIST=${MINNOW_MNIST_DIR:-$ROOT/../shared/data/mnist}
OUT=${MINNOW_MNIST_OUT:-runs/mnist}
BIN=${MINNOW_BIN:-target/release/minnow}
STAGES=${MINNOW_MNIST_STAGES:-teacher cnn-teacher hinton mcu export verify table}
TEACHER_EPOCHS=${MINNOW_MNIST_TEACHER_EPOCHS:-20}
HINTON_EPOCHS=${MINNOW_MNIST_HINTON_EPOCHS:-10}
MCU_EPOCHS=${MINNOW_MNIST_MCU_EPOCHS:-30}
CNN_EPOCHS=${MINNOW_MNIST_CNN_EPOCHS:-8}
BIG_CNN_EPOCHS=${MINNOW_MNIST_BIG_CNN_EPOCHS:-10}
BIG_CNN_COSINE_EPOCHS=${MINNOW_MNIST_BIG_CNN_COSINE_EPOCHS:-12}
LONG_EPOCHS=${MINNOW_MNIST_LONG_EPOCHS:-150}
ONLY=${MINNOW_MNIST_ONLY:-}
PARTS=${MINNOW_MNIST_PARTS:-hard distilled}
SEED=0
mkdir -p "$OUT"

# One split for every run: 55,000 train / 5,000 validation from the training files (seed 0),
# the official 10,000 t10k images as the test set. Settings are picked on validation only.
DATA=(--mnist "$MNIST" --val-fraction 0.0833333 --split-seed 0)

# step NAME DONE minnow-args... (a killed training step is resumed).
source "$ROOT/bench/step.sh"

# The paper's teacher: 784-1200-1200-10, dropout 0.5, inputs jittered by up to 2 pixels.
teacher() {
  step teacher "$OUT/teacher/summary.json" train-teacher "${DATA[@]}" \
    --hidden 1200,1200 --dropout 0.5 --jitter 2 --epochs "$TEACHER_EPOCHS" --batch-size 128 \
    --learning-rate 1e-3 --weight-decay 0 --seed $SEED --quiet --out "$OUT/teacher"
}

# A CNN teacher for the CNN students (the MLP teacher, 166 errors, is worse than they are): conv
# 32, 64, 128 (3x3, ReLU, 2x2 max pooling), 256 hidden with dropout 0.5, inputs jittered by up to
# 1 pixel, cosine learning rate. ~390 K parameters, host only.
CNN_TEACHER_EPOCHS=${MINNOW_MNIST_CNN_TEACHER_EPOCHS:-8}
# cnn_teacher [SEED]: teacher-cnn (seed 0) or teacher-cnn-sSEED.
cnn_teacher() {
  local seed=${1:-$SEED} name=teacher-cnn
  [[ $seed == "$SEED" ]] || name=teacher-cnn-s$seed
  step "$name" "$OUT/$name/summary.json" train-teacher "${DATA[@]}" \
    --arch cnn --channels 32,64,128 --hidden 256 --dropout 0.5 --jitter 1 \
    --epochs "$CNN_TEACHER_EPOCHS" --lr-schedule cosine --batch-size 128 \
    --learning-rate 1e-3 --weight-decay 0 --seed "$seed" --quiet --out "$OUT/$name"
}

# An ensemble of the CNN teachers of seeds 0 and 1 (ens-tcnn2/member-{0,1} link to them),
# trained first if missing.
ens_tcnn2() {
  cnn_teacher "$SEED"
  cnn_teacher 1
  mkdir -p "$OUT/ens-tcnn2"
  ln -sfn ../teacher-cnn "$OUT/ens-tcnn2/member-0"
  ln -sfn ../teacher-cnn-s1 "$OUT/ens-tcnn2/member-1"
}

# distill NAME TEACHER_DIR T SOFT HARD EPOCHS arch-args...: one student. SOFT = 0 is the
# hard-label baseline (no teacher). Distilled students read the teacher's cached logits (jitter
# 0, so the teacher's outputs on the transfer set never change) and still name the teacher, for
# the agreement columns.
distill() {
  local name=$1 teacher=$2 t=$3 soft=$4 hard=$5 epochs=$6
  shift 6
  local kd=() jitter=${RUN_JITTER:-0}
  if [[ $soft != 0 ]]; then
    kd=(--teacher "$OUT/$teacher")
    # With jitter the teacher runs live on every (shifted) batch; without, its logits are cached.
    [[ $jitter != 0 ]] || kd+=(--teacher-logits "$OUT/$teacher/logits.npy")
  fi
  step "$name" "$OUT/$name/summary.json" distill "${DATA[@]}" "${kd[@]}" \
    --temperature "$t" --soft-weight "$soft" --hard-weight "$hard" --jitter "$jitter" --dropout 0 \
    --epochs "$epochs" --batch-size 128 --learning-rate 1e-3 --weight-decay 0 --seed "${RUN_SEED:-$SEED}" \
    --quiet --out "$OUT/$name" "$@"
}

# The paper's student, 784-800-800-10: hard labels vs distilled at T = 20 (soft weight 1, hard 0).
# 1.3 M parameters: a host-only reference, it does not fit a microcontroller.
hinton() {
  distill h800-hard teacher 1 0 1 "$HINTON_EPOCHS" --hidden 800,800
  distill h800-T20 teacher 20 1 0 "$HINTON_EPOCHS" --hidden 800,800
  # Seeds 1 and 2 of the same pair: is the difference larger than seed noise?
  local s
  for s in 1 2; do
    RUN_SEED=$s distill "h800s$s-hard" teacher 1 0 1 "$HINTON_EPOCHS" --hidden 800,800
    RUN_SEED=$s distill "h800s$s-T20" teacher 20 1 0 "$HINTON_EPOCHS" --hidden 800,800
  done
}

# Microcontroller students: NAME|BUDGET|EPOCHS|GRID|arch flags[|SEED[|JITTER[|TEACHER]]]. Sizes were
# chosen so that the int8 blob (int8 weights + 13 bytes per output channel + ~100 bytes of
# header) fits the budget. GRID lists the distilled variants as T:HARD_WEIGHT (soft weight 1);
# every family also gets a hard-label baseline with the same architecture, epochs, seed and
# jitter. The CNN (38-62 s/epoch here, the MLPs 0.4 s) gets only the variant picked on the MLP
# students' validation split. TEACHER (a folder in $OUT, default $MCU_TEACHER) names the
# teacher of the distilled variants; with another teacher than the default their names end in
# -from-TEACHER, and the hard-label baseline is the family's usual run (same name and settings,
# so it is trained once).
MLP_GRID=${MINNOW_MNIST_GRID:-2.5:0 4:0 8:0 20:0 2.5:0.2 4:0.2 8:0.2 2.5:1 4:1 8:1}
# T:HARD_WEIGHT of the jittered CNNs distilled from the CNN teacher (picked on validation, see above).
CNN_TEACHER_PICK=${MINNOW_MNIST_CNN_TEACHER_PICK:-4:0}
MCU_STUDENTS=(
  "mlp40|32k|$MCU_EPOCHS|$MLP_GRID|--arch mlp --hidden 40"
  "mlp19|16k|$MCU_EPOCHS|$MLP_GRID|--arch mlp --hidden 19"
  # The same MLPs trained 5x longer: distilled students fit the soft targets more slowly than
  # hard-label students fit the labels (train accuracy 97-98 % vs 99.6 % after 30 epochs).
  "mlp40e150|32k|$LONG_EPOCHS|2.5:0 2.5:1 4:1|--arch mlp --hidden 40"
  "mlp19e150|16k|$LONG_EPOCHS|2.5:0 2.5:1 4:1|--arch mlp --hidden 19"
  # Seed 1 of the pairs picked on validation above: how much of a difference is seed noise.
  "mlp40s1|32k|$MCU_EPOCHS|2.5:1|--arch mlp --hidden 40|1"
  "mlp19s1|16k|$MCU_EPOCHS|2.5:0|--arch mlp --hidden 19|1"
  # Augmented transfer set: inputs jittered by up to 1 pixel for both students, the teacher run
  # live on the shifted images for the distilled one.
  "mlp40j1|32k|$MCU_EPOCHS|2.5:1|--arch mlp --hidden 40|0|1"
  "mlp19j1|16k|$MCU_EPOCHS|2.5:0|--arch mlp --hidden 19|0|1"
  "cnn4-8-16h32|16k|$CNN_EPOCHS|${MINNOW_MNIST_CNN_GRID:-2.5:1}|--arch cnn --channels 4,8,16 --hidden 32"
  "cnn4-8-16h32j1|16k|$CNN_EPOCHS|${MINNOW_MNIST_CNN_GRID:-2.5:1}|--arch cnn --channels 4,8,16 --hidden 32|0|1"
  # A CNN near the 32 KB budget (29,066 parameters: conv 16, 32, 64 straight into the output
  # layer), trainable on two cores since convolutions run as one matrix multiply (im2col).
  "cnn16-32-64j1|32k|$BIG_CNN_EPOCHS|${MINNOW_MNIST_CNN_GRID:-2.5:1}|--arch cnn --channels 16,32,64 --hidden|0|1"
  # The same with a cosine learning-rate schedule and 12 epochs (hard labels only: the MLP
  # teacher's soft targets made the 10-epoch CNN worse, see docs/results.md).
  "cnn16-32-64j1c|32k|$BIG_CNN_COSINE_EPOCHS||--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1"
  "cnn16-32-64j1c20|32k|20||--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1"
  # Born-again: the 32 KB CNN distilled from the ensemble of the three 32 KB CNNs above (stage
  # ens-cnn3; average of their probabilities: 76 test errors, against 77-90 for each alone).
  "cnn16-32-64j1c|32k|$BIG_CNN_COSINE_EPOCHS|2.5:1|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1|ens-cnn3"
  # Distilled from the CNN teacher (stage cnn-teacher). Its logits on the clean transfer set are
  # cached, so the MLPs and the un-jittered CNN get a T sweep; the jittered CNNs (teacher live,
  # ~2x the time per epoch) get the variant picked on the MLPs' validation errors.
  "mlp40|32k|$MCU_EPOCHS|$MLP_GRID|--arch mlp --hidden 40|0|0|teacher-cnn"
  "mlp19|16k|$MCU_EPOCHS|$MLP_GRID|--arch mlp --hidden 19|0|0|teacher-cnn"
  "mlp40e150|32k|$LONG_EPOCHS|2.5:0 4:0 2.5:1 4:1|--arch mlp --hidden 40|0|0|teacher-cnn"
  "mlp19e150|16k|$LONG_EPOCHS|2.5:0 4:0 2.5:1 4:1|--arch mlp --hidden 19|0|0|teacher-cnn"
  # Seeds 1 and 2 of the 150-epoch pairs picked on validation (784-19-10: T 2.5, hard weight 1;
  # 784-40-10: T 2.5, soft only).
  "mlp19e150s1|16k|$LONG_EPOCHS|2.5:1|--arch mlp --hidden 19|1|0|teacher-cnn"
  "mlp19e150s2|16k|$LONG_EPOCHS|2.5:1|--arch mlp --hidden 19|2|0|teacher-cnn"
  "mlp40e150s1|32k|$LONG_EPOCHS|2.5:0|--arch mlp --hidden 40|1|0|teacher-cnn"
  "mlp40e150s2|32k|$LONG_EPOCHS|2.5:0|--arch mlp --hidden 40|2|0|teacher-cnn"
  "mlp40s1|32k|$MCU_EPOCHS|4:0|--arch mlp --hidden 40|1|0|teacher-cnn"
  "mlp19s1|16k|$MCU_EPOCHS|2.5:1|--arch mlp --hidden 19|1|0|teacher-cnn"
  "cnn4-8-16h32|16k|$CNN_EPOCHS|2.5:1 4:1 8:1|--arch cnn --channels 4,8,16 --hidden 32|0|0|teacher-cnn"
  # Seed 1 of the 16 KB CNN pair picked on validation: how much of the difference is seed noise.
  "cnn4-8-16h32s1|16k|$CNN_EPOCHS|8:1|--arch cnn --channels 4,8,16 --hidden 32|1|0|teacher-cnn"
  "cnn4-8-16h32j1|16k|$CNN_EPOCHS|$CNN_TEACHER_PICK|--arch cnn --channels 4,8,16 --hidden 32|0|1|teacher-cnn"
  "cnn16-32-64j1c20|32k|20|$CNN_TEACHER_PICK|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1|teacher-cnn"
  # The 32 KB CNN at 12 cosine epochs with the hard term kept (T 2.5, hard weight 1): the soft-only
  # T 4 pick above had worse validation errors than hard labels.
  "cnn16-32-64j1c|32k|$BIG_CNN_COSINE_EPOCHS|2.5:1|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1|teacher-cnn"
  # The same pair for 20 epochs: distilled students fit soft targets more slowly (see the MLPs).
  "cnn16-32-64j1c20|32k|20|2.5:1|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1|teacher-cnn"
  # Seed 1 of that pair: how much of the difference is seed noise.
  "cnn16-32-64j1c20s1|32k|20|2.5:1|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|1|1|teacher-cnn"
  # A better teacher: the two CNN teachers (seeds 0 and 1) as one ensemble (stage ens-tcnn2).
  "cnn16-32-64j1c|32k|$BIG_CNN_COSINE_EPOCHS|2.5:1|--arch cnn --channels 16,32,64 --lr-schedule cosine --hidden|0|1|ens-tcnn2"
)
# The teacher the MCU students distil from (the most accurate one trained here).
MCU_TEACHER=${MINNOW_MNIST_MCU_TEACHER:-teacher}

# wanted NAME TEACHER: MINNOW_MNIST_ONLY lists NAME (every teacher) or NAME@TEACHER.
wanted() { [[ -z $ONLY ]] || [[ " $ONLY " == *" $1 "* ]] || [[ " $ONLY " == *" $1@$2 "* ]]; }

# The suffix of runs distilled from TEACHER: none for the default teacher.
from() { [[ $1 == "$MCU_TEACHER" ]] || echo "-from-$1"; }

# mcu_student LINE: one MCU_STUDENTS line's fields into the caller's locals name budget epochs
# grid args seed jitter teacher (bash's dynamic scope); false when MINNOW_MNIST_ONLY leaves it out.
mcu_student() {
  IFS='|' read -r name budget epochs grid args seed jitter teacher <<<"$1"
  teacher=${teacher:-$MCU_TEACHER}
  wanted "$name" "$teacher"
}

mcu() {
  local line name budget epochs grid args seed jitter teacher v t hw
  for line in "${MCU_STUDENTS[@]}"; do
    mcu_student "$line" || continue
    local RUN_SEED=${seed:-$SEED} RUN_JITTER=${jitter:-0}
    [[ $teacher != ens-cnn3 ]] || ens_cnn3
    [[ $teacher != ens-tcnn2 ]] || ens_tcnn2
    # shellcheck disable=SC2086 # args is a list of flags
    [[ " $PARTS " != *" hard "* ]] || distill "$name-hard" "$MCU_TEACHER" 1 0 1 "$epochs" $args
    [[ " $PARTS " == *" distilled "* ]] || continue
    for v in $grid; do
      t=${v%%:*} hw=${v#*:}
      # shellcheck disable=SC2086
      distill "$name-T$t$([[ $hw == 0 ]] || echo "-h$hw")$(from "$teacher")" "$teacher" "$t" 1 "$hw" "$epochs" $args
    done
  done
}

# An ensemble teacher made of student runs (a student run folder teaches like a teacher run):
# ens-cnn3/member-{0,1,2} link to the three 32 KB CNNs trained on hard labels.
ens_cnn3() {
  local i=0 r
  mkdir -p "$OUT/ens-cnn3"
  for r in cnn16-32-64j1-hard cnn16-32-64j1c-hard cnn16-32-64j1c20-hard; do
    [[ -e $OUT/$r/student.bpk ]] || { echo "!! ens-cnn3 needs $OUT/$r (stage mcu)" >&2; return 1; }
    ln -sfn "../$r" "$OUT/ens-cnn3/member-$i"
    i=$((i + 1))
  done
}

# teacher_preds TEACHER: prints the path of TEACHER's predictions on the test images (a teacher
# run or an ensemble folder of member-* runs), computed the first time they are needed.
teacher_preds() {
  local preds=$OUT/$1/test_predictions.json
  if [[ ! -e $preds && ( -e $OUT/$1/teacher.toml || -e $OUT/$1/member-0 ) ]]; then
    echo "== teacher predictions: $preds" >&2
    python3 bench/mnist_teacher_preds.py "$BIN" "$MNIST" "$OUT/$1" "$preds" >&2
  fi
  [[ ! -e $preds ]] || echo "$preds"
}

# Every MCU student is exported with its flash budget (the export fails if it does not fit),
# with its teacher's test predictions for the int8 and on-device teacher-agreement columns
# (the hard-label runs: the default teacher's).
export_all() {
  local line name budget epochs grid args seed jitter teacher run by preds
  for line in "${MCU_STUDENTS[@]}"; do
    mcu_student "$line" || continue
    for run in "$OUT/$name"-*/; do
      run=${run%/}
      [[ -e $run/summary.json ]] || continue
      # Distilled runs are exported by their teacher's line; the hard-label run by any line of
      # its family (the step is skipped once its report exists).
      by=$teacher
      case $(basename "$run") in
        *-hard) by=$MCU_TEACHER ;;
        *-from-*) [[ $(basename "$run") == *"-from-$teacher" ]] || continue ;;
        *) [[ $teacher == "$MCU_TEACHER" ]] || continue ;;
      esac
      preds=$(teacher_preds "$by")
      local tp=()
      [[ -z $preds ]] || tp=(--teacher-predictions "$preds")
      step "export-$(basename "$run")" "$run/report.json" export "$run" \
        --max-flash "$budget" --golden 200 "${tp[@]}"
    done
  done
}

# QEMU, Cortex-M4 (mps2-an386): 200 golden vectors, bit-exact against the host's int8 logits.
verify_all() {
  local run
  for run in "$OUT"/*/; do
    run=${run%/}
    [[ -e $run/report.json ]] || continue
    if python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["device"] else 1)' \
      "$run/report.json"; then
      echo "== verify-$(basename "$run"): done"
      continue
    fi
    # No device section (never verified, or exported again since): an old .wall is stale.
    rm -f "$OUT/verify-$(basename "$run").wall"
    step "verify-$(basename "$run")" "$OUT/verify-$(basename "$run").wall" verify "$run" --core m4
  done
}

# Calibration sweep: the int8 export of CALIB_RUNS with other activation calibrations, written
# to $OUT/calibration/RUN-VARIANT (the run folder keeps its min/max export). The report of each
# gives int8 errors on validation (where a calibration may be picked) and on test.
CALIB_RUNS=${MINNOW_MNIST_CALIB_RUNS:-cnn16-32-64j1c20-T2.5-h1-from-teacher-cnn}
CALIB_VARIANTS=(
  "minmax|"
  "p99.9|--percentile 99.9"
  "p99.99|--percentile 99.99"
  "p99.999|--percentile 99.999"
  "c5000|--calibration-samples 5000"
  "p99.99c5000|--percentile 99.99 --calibration-samples 5000"
)
calibration() {
  local run v variant flags
  for run in $CALIB_RUNS; do
    for v in "${CALIB_VARIANTS[@]}"; do
      IFS='|' read -r variant flags <<<"$v"
      mkdir -p "$OUT/calibration/$run-$variant"
      # shellcheck disable=SC2086 # flags is a list of flags
      step "calibration-$run-$variant" "$OUT/calibration/$run-$variant/report.json" export \
        "$OUT/$run" --out "$OUT/calibration/$run-$variant" --max-flash 32k --golden 10 $flags
    done
  done
  python3 - "$OUT/calibration" <<'PY'
import json, os, sys
root = sys.argv[1]
print("| export | calibration | val int8 err /5000 | test int8 err /10000 |")
print("|---|---|---|---|")
for name in sorted(os.listdir(root)):
    try:
        r = json.load(open(os.path.join(root, name, "report.json")))
    except OSError:
        continue
    v, d = r.get("validation") or {}, r["data"]
    cal = d["calibration"] + (f" {d['percentile']}" if d.get("percentile") else "")
    val = round((1 - v["int8_accuracy"]) * v["samples"]) if v else "-"
    test = round((1 - r["student_int8"]["accuracy"]) * d["test_samples"])
    print(f"| `{name}` | {cal}, {d['calibration_samples']} samples | {val} | {test} |")
PY
}

# Quantization-aware fine-tuning (`minnow distill --init-from RUN --qat`): a trained 32 KB
# student continues for a few epochs through the int8 rounding of its weights and activations,
# at a tenth of the learning rate (cosine), with its own objective and data settings, then is
# exported with the 32 KB budget like the others. QAT_RUNS: NAME|BASE RUN|TEACHER|T:HARD_WEIGHT
# (TEACHER empty: hard labels)|EPOCHS|SEED[|LEARNING RATE[|float: the same continuation without
# --qat, as a control]], teacher, objective and seed those of the base run. Hard-label and distilled bases get the same fine-tuning, so each pair stays
# comparable.
QAT_LR=${MINNOW_MNIST_QAT_LR:-1e-4}
QAT_RUNS=(
  "cnn16-32-64j1c20q3-hard|cnn16-32-64j1c20-hard||1:1|3|0"
  "cnn16-32-64j1c20q3-T2.5-h1-from-teacher-cnn|cnn16-32-64j1c20-T2.5-h1-from-teacher-cnn|teacher-cnn|2.5:1|3|0"
  "cnn16-32-64j1c20s1q3-hard|cnn16-32-64j1c20s1-hard||1:1|3|1"
  "cnn16-32-64j1c20s1q3-T2.5-h1-from-teacher-cnn|cnn16-32-64j1c20s1-T2.5-h1-from-teacher-cnn|teacher-cnn|2.5:1|3|1"
  "cnn16-32-64j1cq3-hard|cnn16-32-64j1c-hard||1:1|3|0"
  "cnn16-32-64j1cq3-T2.5-h1-from-ens-tcnn2|cnn16-32-64j1c-T2.5-h1-from-ens-tcnn2|ens-tcnn2|2.5:1|3|0"
  # Longer and at 3x the rate: QAT as a continuation of training, not only a correction.
  "cnn16-32-64j1c20q6r3-hard|cnn16-32-64j1c20-hard||1:1|6|0|3e-4"
  "cnn16-32-64j1c20q6r3-T2.5-h1-from-teacher-cnn|cnn16-32-64j1c20-T2.5-h1-from-teacher-cnn|teacher-cnn|2.5:1|6|0|3e-4"
  # The control: the same 6 epochs without --qat (float fine-tuning), distilled seed 0.
  "cnn16-32-64j1c20f6r3-T2.5-h1-from-teacher-cnn|cnn16-32-64j1c20-T2.5-h1-from-teacher-cnn|teacher-cnn|2.5:1|6|0|3e-4|float"
  # Seed 1 of that pair: does the recipe repeat?
  "cnn16-32-64j1c20s1q6r3-hard|cnn16-32-64j1c20s1-hard||1:1|6|1|3e-4"
  "cnn16-32-64j1c20s1q6r3-T2.5-h1-from-teacher-cnn|cnn16-32-64j1c20s1-T2.5-h1-from-teacher-cnn|teacher-cnn|2.5:1|6|1|3e-4"
)
qat() {
  local line name base teacher v epochs seed lr mode t hw kd preds tp qat
  for line in "${QAT_RUNS[@]}"; do
    IFS='|' read -r name base teacher v epochs seed lr mode <<<"$line"
    qat=(--qat)
    [[ $mode != float ]] || qat=()
    wanted "$name" "${teacher:-$MCU_TEACHER}" || continue
    t=${v%%:*} hw=${v#*:}
    kd=(--temperature 1 --soft-weight 0)
    [[ -z $teacher ]] || kd=(--teacher "$OUT/$teacher" --temperature "$t" --soft-weight 1)
    step "$name" "$OUT/$name/summary.json" distill "${DATA[@]}" "${kd[@]}" --hard-weight "$hw" \
      --jitter 1 --dropout 0 --epochs "$epochs" --lr-schedule cosine --batch-size 128 \
      --learning-rate "${lr:-$QAT_LR}" --weight-decay 0 --seed "$seed" --quiet \
      --arch cnn --channels 16,32,64 --hidden --init-from "$OUT/$base" "${qat[@]}" --out "$OUT/$name"
    preds=$(teacher_preds "${teacher:-$MCU_TEACHER}")
    tp=()
    [[ -z $preds ]] || tp=(--teacher-predictions "$preds")
    step "export-$name" "$OUT/$name/report.json" export "$OUT/$name" --max-flash 32k --golden 200 \
      "${tp[@]}"
  done
}

table() {
  python3 bench/mnist_table.py "$OUT" docs/results.md docs/results.svg
}

for stage in $STAGES; do
  case $stage in
    teacher) teacher ;;
    cnn-teacher) cnn_teacher ;;
    ens-cnn3) ens_cnn3 ;;
    ens-tcnn2) ens_tcnn2 ;;
    calibration) calibration ;;
    qat) qat ;;
    hinton) hinton ;;
    mcu) mcu ;;
    export) export_all ;;
    verify) verify_all ;;
    table) table ;;
    *)
      echo "unknown stage $stage" >&2
      exit 2
      ;;
  esac
done
exit
}
