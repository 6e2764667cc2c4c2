#!/usr/bin/env python3
"""PyTorch half of bench/cnn_epoch.sh: one timed epoch of a CNN student on hard labels,
the same network minnow's `--arch cnn` builds: per channel entry a 3x3 convolution (padding
1) + ReLU + 2x2 max pooling (while the map is at least 2x2), then the hidden dense layers
(+ ReLU) and a dense layer of 10 classes.

  cnn29k   channels 16,32,64, no hidden layer (29,066 parameters)
  cnn6k    channels 4,8,16, hidden 32 (6,474 parameters)

Batch 128, Adam(lr=1e-3), no augmentation. The split, normalisation and the timed region
(shuffle, batch gather, forward, loss, backward, Adam step, then the validation forward
pass) are bench/torch_kd.py's. Prints one JSON object per model on stdout.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_kd import load_mnist, run_epoch  # noqa: E402

MODELS = {"cnn29k": ([16, 32, 64], []), "cnn6k": ([4, 8, 16], [32])}


def cnn(channels, hidden, classes=10):
    layers, c, side = [nn.Unflatten(1, (1, 28, 28))], 1, 28
    for out in channels:
        layers += [nn.Conv2d(c, out, 3, padding=1), nn.ReLU()]
        if side >= 2:
            layers.append(nn.MaxPool2d(2))
            side //= 2
        c = out
    layers.append(nn.Flatten())
    width = c * side * side
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mnist", required=True, help="directory with the MNIST IDX files")
    ap.add_argument("--models", default="cnn29k,cnn6k")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--val-fraction", type=float, default=0.01)
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--limit", type=int, default=10000, help="train on the first N training samples (0: all)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    data = load_mnist(args.mnist, args.val_fraction, args.test_fraction, args.limit, args.seed)
    for name in args.models.split(","):
        channels, hidden = MODELS[name]
        model = cnn(channels, hidden)
        params = sum(p.numel() for p in model.parameters())
        seconds, batches, loss, val_acc = run_epoch(
            model, data, args, lambda out, idx, xb, yb: F.cross_entropy(out, yb), args.seed
        )
        rec = {"impl": "pytorch", "phase": name, "seconds": round(seconds, 3), "batches": batches,
               "samples": data[0].shape[0], "val_samples": data[2].shape[0], "parameters": params,
               "train_loss": round(loss, 4), "val_accuracy": round(val_acc, 4),
               "threads": torch.get_num_threads(), "torch": torch.__version__}
        print(json.dumps(rec), flush=True)
        print(f"pytorch {name:8s} {seconds:8.2f} s  ({batches} batches, {params} parameters, val acc {val_acc:.4f})",
              file=sys.stderr)


if __name__ == "__main__":
    main()
