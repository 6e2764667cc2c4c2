#!/usr/bin/env python3
"""The teacher's predicted class of each of the 10,000 MNIST test images, in file order, as the
JSON array `minnow export --teacher-predictions` takes (standard library only).

usage: python3 bench/mnist_teacher_preds.py MINNOW_BIN MNIST_DIR TEACHER_DIR OUT.json

minnow has no "predict" command, so this borrows `minnow distill`'s logit cache: a throwaway
1-epoch distillation whose whole data set is the t10k file (validation and test fractions 0)
makes minnow write the teacher's logits of every t10k image to a cache, in the order of its
(seeded, shuffled) training split. The split is re-done here with minnow's SplitMix64 / Lemire /
Fisher-Yates (trainer/src/data/split.rs) to put the rows back in file order, and the result is
checked against the labels: the teacher's test accuracy must come out exactly as its
summary.json says. TEACHER_DIR may also be an ensemble folder of member-* runs (as `--teacher`
takes): then each member's logits are made the same way and checked, and the prediction is the
class of the highest average probability.
"""

import gzip
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.x = seed

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & M64
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, bound):
        threshold = ((-bound) & M64) % bound
        while True:
            m = self.next() * bound
            if (m & M64) >= threshold:
                return m >> 64

    def shuffle(self, items):
        for i in range(len(items) - 1, 0, -1):
            j = self.below(i + 1)
            items[i], items[j] = items[j], items[i]


def read_npy_f32(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    if major == 1:
        hlen = struct.unpack("<H", data[8:10])[0]
        start = 10 + hlen
    else:
        hlen = struct.unpack("<I", data[8:12])[0]
        start = 12 + hlen
    header = data[start - hlen:start].decode("latin1")
    assert "'<f4'" in header and "False" in header, header
    shape = header.split("'shape':")[1].split(")")[0].strip(" (")
    rows, cols = (int(v) for v in shape.split(",") if v.strip())
    vals = struct.unpack(f"<{rows * cols}f", data[start:start + 4 * rows * cols])
    return [vals[r * cols:(r + 1) * cols] for r in range(rows)]


def find(dir_, name):
    for n in (name, name + ".gz"):
        p = os.path.join(dir_, n)
        if os.path.isfile(p):
            return p
    raise SystemExit(f"{name} not in {dir_}")


def file_order_logits(binary, images, labels_path, n, teacher):
    """TEACHER's logits of the n t10k images, in file order (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "t10k-logits.npy")
        subprocess.run(
            [binary, "distill", "--idx", images, labels_path, "--classes", "10",
             "--val-fraction", "0", "--test-fraction", "0", "--split-seed", "0",
             "--teacher", teacher, "--teacher-logits", cache, "--temperature", "1",
             "--soft-weight", "1", "--hard-weight", "0", "--epochs", "1", "--hidden", "1",
             "--quiet", "--out", os.path.join(tmp, "throwaway")],
            check=True, stdout=subprocess.DEVNULL)
        rows = read_npy_f32(cache)
    assert len(rows) == n, (len(rows), n)
    # minnow's split with no validation or test samples: the training split is the shuffled order.
    order = list(range(n))
    SplitMix64(0).shuffle(order)
    out = [None] * n
    for j, i in enumerate(order):
        out[i] = rows[j]
    return out


def checked_errors(preds, labels, run_dir):
    """Test errors of preds; they must equal what run_dir/summary.json says."""
    n = len(labels)
    errors = sum(p != l for p, l in zip(preds, labels))
    with open(os.path.join(run_dir, "summary.json")) as f:
        want = round((1 - json.load(f)["test"]["accuracy"]) * n)
    if errors != want:
        raise SystemExit(f"{run_dir}: predictions give {errors} test errors, summary.json says {want}")
    return errors


def softmax(row):
    m = max(row)
    e = [math.exp(v - m) for v in row]
    s = sum(e)
    return [v / s for v in e]


def argmax(row):
    return max(range(len(row)), key=lambda k: row[k])


def main():
    binary, mnist, teacher, out = sys.argv[1:5]
    images = find(mnist, "t10k-images-idx3-ubyte")
    labels_path = find(mnist, "t10k-labels-idx1-ubyte")
    opener = gzip.open if labels_path.endswith(".gz") else open
    with opener(labels_path, "rb") as f:
        labels = list(f.read()[8:])
    n = len(labels)
    members = sorted(
        os.path.join(teacher, m) for m in os.listdir(teacher) if m.startswith("member-"))
    if not members:
        logits = file_order_logits(binary, images, labels_path, n, teacher)
        preds = [argmax(r) for r in logits]
        errors = checked_errors(preds, labels, teacher)
        how = f"matches {teacher}/summary.json"
    else:
        # An ensemble folder (member-* runs): the class of the highest average probability at
        # T = 1, as minnow's ensemble_soft_targets averages; each member checked on its own.
        avg = [[0.0] * 10 for _ in range(n)]
        for m in members:
            logits = file_order_logits(binary, images, labels_path, n, m)
            checked_errors([argmax(r) for r in logits], labels, m)
            for acc, row in zip(avg, logits):
                for k, p in enumerate(softmax(row)):
                    acc[k] += p
        preds = [argmax(r) for r in avg]
        errors = sum(p != l for p, l in zip(preds, labels))
        how = f"ensemble of {len(members)} members, each matching its summary.json"
    with open(out, "w") as f:
        json.dump(preds, f)
    print(f"{out}: {n} predictions, {errors} errors ({how})")


if __name__ == "__main__":
    main()
