#!/usr/bin/env python3
"""How many of its own (clean, un-jittered) training images the teacher gets wrong: the transfer
set the students distil on. Reads the teacher-logit cache `minnow distill --teacher-logits`
wrote (rows in the order of minnow's training split) and re-does that split (val fraction,
seed 0, no test fraction: MNIST's test set is t10k) to line the rows up with the labels.

usage: python3 bench/mnist_teacher_train_errors.py MNIST_DIR LOGITS.npy [VAL_FRACTION]
"""

import gzip
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_teacher_preds import SplitMix64, read_npy_f32  # noqa: E402


def main():
    mnist, logits = sys.argv[1:3]
    val_fraction = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0833333
    path = os.path.join(mnist, "train-labels-idx1-ubyte")
    opener, path = (gzip.open, path + ".gz") if not os.path.exists(path) else (open, path)
    with opener(path, "rb") as f:
        labels = list(f.read()[8:])
    n = len(labels)
    # trainer/src/data/split.rs: count_for rounds to nearest (f32 fraction, as minnow stores it).
    import struct
    f32 = struct.unpack("<f", struct.pack("<f", val_fraction))[0]
    n_val = max(1, round(n * f32)) if f32 > 0 else 0
    order = list(range(n))
    SplitMix64(0).shuffle(order)
    rank = [0] * n
    for p, i in enumerate(order):
        rank[i] = p
    order.sort(key=lambda i: labels[i])  # stable: classes stay shuffled
    train = [i for rest, i in enumerate(order) if not (rest + 1) * n_val // n > rest * n_val // n]
    train.sort(key=lambda i: rank[i])
    rows = read_npy_f32(logits)
    assert len(rows) == len(train), (len(rows), len(train))
    wrong = sum(max(range(len(r)), key=lambda k: r[k]) != labels[i] for r, i in zip(rows, train))
    print(f"teacher on its {len(train)} training images: {wrong} errors "
          f"(accuracy {1 - wrong / len(train):.4f})")


if __name__ == "__main__":
    main()
