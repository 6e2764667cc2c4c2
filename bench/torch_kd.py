#!/usr/bin/env python3
"""PyTorch half of bench/kd_epoch.sh: one timed epoch each of

  teacher   784-1200-1200-10 trained on hard labels
  kd-live   784-800-800-10 distilled at T=20, teacher run live on every batch
  kd-cached 784-32-10 distilled at T=20 from precomputed teacher logits

all with batch 128 and Adam(lr=1e-3), the same as the minnow half. Loading,
decompressing and normalising MNIST, building the models and computing the
cached logits are outside the timed region. The timed region mirrors what
minnow's per-epoch `seconds` (metrics.jsonl) covers: shuffle, batch gather
(with input jitter where enabled), forward, loss, backward, optimizer step,
then one forward pass over the validation split.

The split mirrors minnow's defaults: 10 % validation and 20 % test held out
of the 60 000 MNIST training images (random here, stratified in minnow; only
the counts matter for timing), so an epoch trains on ~42 000 samples.

minnow only runs the teacher live when augmentation is on (without it, the
teacher's logits are computed once up front), so kd-live uses 1-pixel input
jitter on both sides (--live-jitter).

Prints one JSON object per phase on stdout:
  {"impl": "pytorch", "phase": "teacher", "seconds": 12.3, "samples": 60000, ...}
Human-readable progress goes to stderr.
"""

import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_idx(path):
    """An IDX file (optionally gzip-compressed) as a numpy uint8 array."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        sys.exit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, raw[4 : 4 + 4 * ndim])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find(directory, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    sys.exit(f"{directory}: no {stem}[.gz]")


def load_mnist(directory, val_fraction, test_fraction, limit, seed):
    """(train x, train y, val x, val y, fill): normalised with the training split's
    global mean/std, as minnow does; `fill` is what a raw 0 normalises to."""
    x = load_idx(find(directory, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32)
    y = load_idx(find(directory, "train-labels-idx1-ubyte")).astype(np.int64)
    n = len(x)
    perm = np.random.default_rng(seed).permutation(n)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    val, train = perm[:n_val], perm[n_val + n_test :]
    if limit:
        train = train[:limit]
    mean, std = x[train].mean(), x[train].std()
    t = lambda a: torch.from_numpy(np.ascontiguousarray(a))
    norm = lambda a: t((a - mean) / std)
    return norm(x[train]), t(y[train]), norm(x[val]), t(y[val]), float(-mean / std)


def jittered(xb, jitter, fill, gen):
    """Each 28x28 sample shifted by dy, dx uniform in [-jitter, jitter], the
    uncovered border filled with `fill` (minnow's `shift`)."""
    b = xb.shape[0]
    side = 28 + 2 * jitter
    padded = torch.full((b, side, side), fill, dtype=xb.dtype)
    padded[:, jitter : jitter + 28, jitter : jitter + 28] = xb.view(b, 28, 28)
    dy = torch.randint(0, 2 * jitter + 1, (b,), generator=gen)
    dx = torch.randint(0, 2 * jitter + 1, (b,), generator=gen)
    ar = torch.arange(28)
    rows = (dy[:, None] + ar)[:, :, None]
    cols = (dx[:, None] + ar)[:, None, :]
    return padded[torch.arange(b)[:, None, None], rows, cols].reshape(b, 784)


def mlp(sizes, dropout):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def kd_loss(student_logits, teacher_logits, labels, t, alpha):
    """Hinton et al.: alpha * T^2 * CE(softmax(v/T), softmax(z/T)) + (1 - alpha) * CE(y, z)."""
    p = F.softmax(teacher_logits / t, dim=1)
    soft = -(p * F.log_softmax(student_logits / t, dim=1)).sum(dim=1).mean() * (t * t)
    if alpha >= 1.0:
        return soft
    return alpha * soft + (1.0 - alpha) * F.cross_entropy(student_logits, labels)


def run_epoch(model, data, args, loss_of, seed, jitter=0):
    """One epoch plus the validation forward pass; returns (seconds, batches, mean loss, val accuracy)."""
    x, y, vx, vy, fill = data
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    t0 = time.perf_counter()
    model.train()
    perm = torch.randperm(n, generator=gen)
    batches = 0
    total = torch.zeros(())
    for start in range(0, n, args.batch):
        idx = perm[start : start + args.batch]
        xb, yb = x[idx], y[idx]
        if jitter:
            xb = jittered(xb, jitter, fill, gen)
        out = model(xb)
        loss = loss_of(out, idx, xb, yb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.detach()
        batches += 1
    val_acc = accuracy(model, vx, vy)
    seconds = time.perf_counter() - t0
    return seconds, batches, float(total) / max(batches, 1), val_acc


@torch.no_grad()
def logits_of(model, x, batch=1024):
    model.eval()
    return torch.cat([model(x[s : s + batch]) for s in range(0, x.shape[0], batch)])


@torch.no_grad()
def accuracy(model, x, y):
    return float((logits_of(model, x).argmax(1) == y).float().mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", required=True, help="directory with the MNIST IDX files")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--temperature", type=float, default=20.0)
    ap.add_argument("--alpha", type=float, default=1.0, help="weight of the soft term (minnow: soft_weight 1, hard_weight 0)")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--teacher-dropout", type=float, default=0.0)
    ap.add_argument("--live-jitter", type=int, default=1, help="input jitter (pixels) in kd-live")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--limit", type=int, default=0, help="use the first N training samples (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--phases", default="teacher,kd-live,kd-cached")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = load_mnist(args.mnist, args.val_fraction, args.test_fraction, args.limit, args.seed)
    x, y = data[0], data[1]
    n = x.shape[0]
    common = {
        "impl": "pytorch",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "samples": n,
        "val_samples": data[2].shape[0],
        "batch": args.batch,
    }

    def report(phase, result, **extra):
        seconds, batches, loss, val_acc = result
        rec = dict(common, phase=phase, seconds=round(seconds, 3), batches=batches, train_loss=round(loss, 4), val_accuracy=round(val_acc, 4), **extra)
        print(json.dumps(rec), flush=True)
        print(f"pytorch {phase:10s} {seconds:8.2f} s  ({batches} batches, mean loss {loss:.4f}, val acc {val_acc:.4f})", file=sys.stderr)

    phases = args.phases.split(",")
    teacher = mlp([784, 1200, 1200, 10], args.teacher_dropout)
    t, a = args.temperature, args.alpha

    # (a) the teacher, hard labels. Later phases distil from it (one epoch of
    # training is enough for timing; the student's accuracy is not the point).
    if "teacher" in phases:
        r = run_epoch(teacher, data, args, lambda out, idx, xb, yb: F.cross_entropy(out, yb), args.seed)
        report("teacher", r)
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    # (b) KD with the teacher run live on every (jittered) batch.
    if "kd-live" in phases:
        student = mlp([784, 800, 800, 10], 0.0)

        def live(out, idx, xb, yb):
            with torch.no_grad():
                v = teacher(xb)
            return kd_loss(out, v, yb, t, a)

        r = run_epoch(student, data, args, live, args.seed + 1, jitter=args.live_jitter)
        report("kd-live", r, jitter=args.live_jitter)

    # (c) KD of a tiny student from cached logits: the teacher runs once, outside the timing.
    if "kd-cached" in phases:
        t0 = time.perf_counter()
        cached = logits_of(teacher, x)
        cache_seconds = time.perf_counter() - t0
        student = mlp([784, 32, 10], 0.0)
        r = run_epoch(student, data, args, lambda out, idx, xb, yb: kd_loss(out, cached[idx], yb, t, a), args.seed + 2)
        report("kd-cached", r, cache_seconds=round(cache_seconds, 3))


if __name__ == "__main__":
    main()
