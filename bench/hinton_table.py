#!/usr/bin/env python3
"""The table of bench/hinton.sh: each row of Hinton, Vinyals & Dean (2015)'s MNIST section,
the paper's number beside the one measured here, and how (epochs, wall time, seeds), from the
run folders' summary.json and the script's STEP.wall files.

    python3 bench/hinton_table.py runs/hinton
"""

import json
import statistics
import sys
from pathlib import Path


def summary(out, name):
    path = out / name / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None


def errors(metrics):
    return round((1.0 - metrics["accuracy"]) * metrics["samples"])


def training_seconds(out, name):
    """The run's epochs' seconds from its metrics.jsonl (whole even when it was resumed, which
    the script's STEP.wall is not)."""
    path = out / name / "metrics.jsonl"
    if not path.exists():
        return None
    return sum(json.loads(line)["seconds"] for line in path.read_text().splitlines() if line)


def how(out, names):
    runs = [(n, summary(out, n)) for n in names]
    runs = [(n, s) for n, s in runs if s]
    if not runs:
        return "not run"
    epochs = runs[0][1]["epochs"]
    walls = [w for w in (training_seconds(out, n) for n, _ in runs) if w is not None]
    each = " each" if len(walls) > 1 else ""
    spent = f", {sum(walls) / len(walls) / 60:.0f} min of training{each}" if walls else ""
    seeds = f", {len(runs)} seeds" if len(runs) > 1 else ""
    return f"{epochs} epochs{spent}{seeds}"


def seeded(out, prefix):
    names = sorted(p.name for p in out.glob(f"{prefix}-s*") if (p / "summary.json").exists())
    return names, [errors(summary(out, n)["test"]) for n in names]


def spread(values):
    if not values:
        return "-"
    if len(values) == 1:
        return str(values[0])
    return f"{statistics.mean(values):.0f} ({', '.join(map(str, values))})"


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/hinton")
    rows = []
    t = summary(out, "teacher")
    rows.append(("teacher 784-1200-1200-10", "67", str(errors(t["test"])) if t else "-", how(out, ["teacher"])))
    names, errs = seeded(out, "hard")
    rows.append(("784-800-800-10, hard labels", "146", spread(errs), how(out, names)))
    names, errs = seeded(out, "t20")
    rows.append(("784-800-800-10, distilled at T = 20", "74", spread(errs), how(out, names)))
    s = summary(out, "no3")
    if s and "bias_shift" in s:
        b = s["bias_shift"]
        here = (
            f"{b['test_errors'][0]} ({b['test_errors_missing'][0]} on 3s); shift {b['amount']:.1f} "
            f"chosen on validation: {b['test_errors'][1]} ({b['test_errors_missing'][1]} on 3s)"
        )
    else:
        here = "-"
    rows.append(("no 3s in the transfer set", "206 (133 on 3s); +3.5: 109 (14 on 3s)", here, how(out, ["no3"])))
    s = summary(out, "only78")
    if s and "bias_shift" in s:
        b = s["bias_shift"]
        n = s["test"]["samples"]
        here = (
            f"{100 * b['test_errors'][0] / n:.1f} %; 7 and 8 lowered by {-b['amount']:.1f} "
            f"(chosen on validation): {100 * b['test_errors'][1] / n:.1f} %"
        )
    else:
        here = "-"
    rows.append(("only 7s and 8s in the transfer set", "47.3 %; 7, 8 lowered by 7.6: 13.2 %", here, how(out, ["only78"])))
    print("| row | paper (test errors) | here (test errors of 10,000) | how |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
