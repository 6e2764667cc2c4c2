#!/usr/bin/env python3
"""PyTorch teachers for minnow's ONNX route (bench/onnx_teacher.sh, docs/results.md).

  train       trains a teacher on the 60,000 MNIST training images and exports it to ONNX
              (input `input`, dynamic batch axis `batch`; output `logits`), with its weights
              beside it as FILE.pt; prints its test accuracy on the official 10,000 t10k images.
  throughput  times PyTorch's CPU inference of the same weights (FILE.pt) over the 10,000 test
              images and prints images/s, the peer of `minnow teacher-info FILE.onnx --mnist`.

The teachers see pixels / 255 (no mean/std), so minnow runs them with
`--teacher-scale 0.00392156862745098` (1/255):

  mlp   784-1200-1200-10 (Hinton et al. 2015's teacher), input (batch, 784)
  cnn   conv 32, conv 64 (3x3, ReLU, 2x2 max pooling each), 128 hidden, input (batch, 1, 28, 28)
        (NCHW, as PyTorch exports every convolution)

Prints one JSON object per command on stdout; progress goes to stderr.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_kd import find, load_idx  # noqa: E402  (the same IDX reader as the KD bench)


def mnist(directory, split):
    stem = "train" if split == "train" else "t10k"
    x = load_idx(find(directory, f"{stem}-images-idx3-ubyte")).astype(np.float32) / 255.0
    y = load_idx(find(directory, f"{stem}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(x.reshape(-1, 784)), torch.from_numpy(y)


def model_of(arch):
    if arch == "mlp":
        return nn.Sequential(
            nn.Linear(784, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 10)
        )
    if arch == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
        )
    sys.exit(f"unknown arch {arch}")


def shaped(arch, x):
    """Flat rows as the model's input: (n, 784) or (n, 1, 28, 28)."""
    return x if arch == "mlp" else x.view(-1, 1, 28, 28)


@torch.no_grad()
def logits_of(model, arch, x, batch):
    model.eval()
    return torch.cat([model(shaped(arch, x[s : s + batch])) for s in range(0, len(x), batch)])


def train(args):
    torch.manual_seed(args.seed)
    x, y = mnist(args.mnist, "train")
    tx, ty = mnist(args.mnist, "test")
    model = model_of(args.arch)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    steps = args.epochs * ((len(x) + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    gen = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(x), generator=gen)
        for s in range(0, len(x), args.batch):
            idx = perm[s : s + args.batch]
            loss = F.cross_entropy(model(shaped(args.arch, x[idx])), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        acc = float((logits_of(model, args.arch, tx, 1000).argmax(1) == ty).float().mean())
        print(f"{args.arch} epoch {epoch + 1}/{args.epochs}: {time.perf_counter() - t0:.1f} s, "
              f"test accuracy {acc:.4f}", file=sys.stderr)
    model.eval()
    dummy = shaped(args.arch, tx[:2])
    torch.onnx.export(
        model, (dummy,), args.out, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
        dynamo=False,
    )
    torch.save(model.state_dict(), args.out + ".pt")
    errors = int((logits_of(model, args.arch, tx, 1000).argmax(1) != ty).sum())
    print(json.dumps({"arch": args.arch, "onnx": args.out, "epochs": args.epochs,
                      "test_errors": errors, "test_accuracy": 1 - errors / len(tx),
                      "torch": torch.__version__}))


def throughput(args):
    torch.set_num_threads(args.threads)
    tx, _ = mnist(args.mnist, "test")
    model = model_of(args.arch)
    model.load_state_dict(torch.load(args.onnx + ".pt"))
    logits_of(model, args.arch, tx[: args.batch], args.batch)  # warm-up
    best = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        logits_of(model, args.arch, tx, args.batch)
        s = time.perf_counter() - t0
        best = s if best is None else min(best, s)
    print(json.dumps({"impl": "pytorch", "arch": args.arch, "images": len(tx), "seconds": round(best, 4),
                      "images_per_s": round(len(tx) / best, 1), "threads": torch.get_num_threads(),
                      "batch": args.batch, "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--mnist", required=True)
    t.add_argument("--arch", choices=["mlp", "cnn"], required=True)
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--out", required=True, help="the ONNX file to write (weights go to OUT.pt)")
    p = sub.add_parser("throughput")
    p.add_argument("--mnist", required=True)
    p.add_argument("--arch", choices=["mlp", "cnn"], required=True)
    p.add_argument("--onnx", required=True, help="the ONNX file `train` wrote (its weights: ONNX.pt)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    train(args) if args.command == "train" else throughput(args)


if __name__ == "__main__":
    main()
