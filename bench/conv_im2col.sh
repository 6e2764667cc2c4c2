#!/usr/bin/env bash
# burn-ndarray's conv2d against minnow's im2col convolution (trainer/src/im2col.rs): forward +
# backward of one batch of 128 on the conv layers of an MNIST CNN, both in one process, best of
# 5, with the ratio. Not part of CI (timings need a quiet machine).
#
#   bash bench/conv_im2col.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --release -q -p minnow --example conv_im2col
