#!/usr/bin/env python3
"""Results table and plot of bench/mnist.sh (standard library only).

usage: python3 bench/mnist_table.py RUNS_DIR docs/results.md docs/results.svg

Reads every run folder of RUNS_DIR (summary.json, config.toml, report.json) and the step files
bench/mnist.sh leaves next to them (NAME.cmd, NAME.wall), and writes the table between the
`<!-- mnist-table:begin -->` and `<!-- mnist-table:end -->` lines of results.md (the rest of the
file is left alone) and an errors-vs-flash plot as SVG. Only numbers found in the run folders are
written; a missing one is shown as "-".
"""

import json
import math
import os
import re
import sys
import tomllib

TEST = 10_000
BEGIN, END = "<!-- mnist-table:begin -->", "<!-- mnist-table:end -->"


def load(path, kind="json"):
    try:
        with open(path, "rb") as f:
            return json.load(f) if kind == "json" else tomllib.load(f)
    except FileNotFoundError:
        return None


def text(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def errors(acc, n=TEST):
    return None if acc is None else round((1.0 - acc) * n)


def fmt(v, spec="{}"):
    return "-" if v is None else spec.format(v)


def arch_of(cfg):
    hidden = "-".join(str(h) for h in cfg.get("hidden", []))
    if cfg.get("arch", "mlp") == "mlp":
        return f"mlp 784-{hidden}-10"
    chans = ",".join(str(c) for c in cfg.get("channels", []))
    return f"{cfg['arch']} c{chans} h{hidden or '-'}"


def family_of(name):
    """`mlp40-T4-h0.2`, `mlp40-T4-from-teacher-cnn` and `mlp40-hard` are all of family `mlp40`."""
    return re.sub(r"-(hard|T[0-9.]+(-h[0-9.]+)?(-from-.+)?)$", "", name)


def teacher_of(cfg):
    """The teacher folder's name (`+`-joined for several), or None for a hard-label run."""
    ts = cfg.get("teacher") or []
    return "+".join(os.path.basename(os.path.normpath(t)) for t in ts) or None


def runs(root):
    out = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isdir(d):
            continue
        summary = load(os.path.join(d, "summary.json"))
        cfg = load(os.path.join(d, "config.toml"), "toml")
        if summary is None or cfg is None:
            continue
        report = load(os.path.join(d, "report.json")) or {}
        teacher = summary["role"] == "teacher"
        soft = 0.0 if teacher else cfg.get("soft_weight", 0.0)
        fe = summary.get("final_epoch") or {}
        n_val = None
        dev = report.get("device")
        r = {
            "name": name,
            "family": family_of(name),
            "teacher": teacher,
            "distilled": soft > 0,
            "by": teacher_of(cfg) if soft > 0 else None,
            "arch": arch_of(cfg),
            "params": summary.get("parameters"),
            "blob": (report.get("footprint") or {}).get("blob_bytes"),
            "val_acc": fe.get("val_accuracy"),
            "float_err": errors(summary["test"]["accuracy"], summary["test"]["samples"]),
            "test_n": summary["test"]["samples"],
            "int8_err": errors((report.get("student_int8") or {}).get("accuracy"),
                               (report.get("data") or {}).get("test_samples") or TEST),
            "agree": summary["test"].get("agreement"),
            "agree_int8": (report.get("student_int8") or {}).get("teacher_agreement"),
            "agree_dev": dev and dev.get("teacher_agreement"),
            "teacher_err": errors((summary.get("teacher_test") or {}).get("accuracy")),
            "T": cfg.get("temperature") if soft > 0 else None,
            "soft": soft,
            "hard": 1.0 if teacher else cfg.get("hard_weight"),
            "dropout": cfg.get("dropout"),
            "jitter": cfg.get("jitter"),
            "epochs": summary.get("epochs"),
            # Fine-tuning of another run (minnow distill --init-from, quantization-aware with --qat).
            "init_from": os.path.basename(os.path.normpath(cfg["init_from"]))
            if cfg.get("init_from") else None,
            "qat": bool(cfg.get("qat")),
            "seed": cfg.get("seed"),
            "spe": summary.get("seconds_per_epoch"),
            "wall": text(os.path.join(root, name + ".wall")),
            "cmd": text(os.path.join(root, name + ".cmd")),
            "dev_vectors": dev and dev.get("vectors"),
            "dev_mismatches": dev and dev.get("mismatches"),
            "dev_err": dev and errors(dev.get("accuracy"), dev.get("vectors")),
            "export_wall": text(os.path.join(root, "export-" + name + ".wall")),
            "verify_wall": text(os.path.join(root, "verify-" + name + ".wall")),
        }
        r["val_err"] = errors(r["val_acc"], 5000) if r["val_acc"] is not None else n_val
        # Exports since 2026-11-28 also report the int8 student on the validation split.
        v = report.get("validation") or {}
        r["val_int8_err"] = errors(v.get("int8_accuracy"), v.get("samples") or 5000)
        out.append(r)
    return out


def pick_on_val(rs):
    """The distilled run of each family and teacher with the most validation accuracy (lowest
    T on ties)."""
    best, count = {}, {}
    for r in rs:
        if r["distilled"]:
            k = (r["family"], r["by"])
            count[k] = count.get(k, 0) + 1
    for r in rs:
        k = (r["family"], r["by"])
        if not r["distilled"] or r["val_acc"] is None or count[k] < 2:
            continue
        b = best.get(k)
        if b is None or (r["val_acc"], -r["T"]) > (b["val_acc"], -b["T"]):
            best[k] = r
    return {r["name"] for r in best.values()}


def table(rs, picked):
    head = ("| run | architecture | params | flash (blob B) | val err /5000 (float, int8 where exported since 2026-11-28; QAT runs: float = on the int8 grids) | float test err "
            "/10000 | int8 test err /10000 | on-device err (vectors, mismatches) | teacher | teacher "
            "agreement, test: float / int8 / device | T | soft/hard | dropout/jitter | epochs | seed | s/epoch | wall s "
            "(train + export + verify) |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rs:
        mark = " (picked on val)" if r["name"] in picked else ""
        dev = "-"
        if r["dev_vectors"] is not None:
            dev = f"{r['dev_err']} of {r['dev_vectors']} ({r['dev_mismatches']} mismatches)"
        walls = [r["wall"], r["export_wall"], r["verify_wall"]]
        wall = " + ".join(w for w in walls if w) or "-"
        by = f"`{r['by']}` ({fmt(r['teacher_err'])} err)" if r["by"] else "-"
        epochs = fmt(r["epochs"])
        if r["init_from"]:
            epochs += f"{' QAT' if r['qat'] else ''} after `{r['init_from']}`"
        val = fmt(r["val_err"])
        if r["val_int8_err"] is not None:
            val += f" (int8 {r['val_int8_err']})"
        lines.append(
            f"| `{r['name']}`{mark} | {r['arch']} | {fmt(r['params'])} | {fmt(r['blob'])} | "
            f"{val} | {fmt(r['float_err'])} | {fmt(r['int8_err'])} | {dev} | {by} | "
            f"{fmt(r['agree'], '{:.4f}')} / {fmt(r['agree_int8'], '{:.4f}')} / "
            f"{fmt(r['agree_dev'], '{:.3f}')} | {fmt(r['T'])} | {r['soft']:g}/{r['hard']:g} | "
            f"{fmt(r['dropout'])}/{fmt(r['jitter'])} | {epochs} | {fmt(r['seed'])} | "
            f"{fmt(r['spe'], '{:.1f}')} | {wall} |"
        )
    # Hard labels vs distilled, per family: the distilled run picked on validation (or the only
    # one), float errors for the host-only students, int8 errors for the exported ones.
    summary = ["", "Hard labels vs distilled, per family (same architecture, epochs, batch, learning "
               "rate and seed): the distilled run picked on validation where there are several; "
               "int8 test errors for the exported students, float for the host-only 800x800 ones.",
               "", "| family | teacher (its test errors) | flash (blob B) | hard-label test errors | "
               "distilled test errors (run) | change |", "|---|---|---|---|---|---|"]
    fams = {}
    for r in rs:
        if not r["teacher"]:
            fams.setdefault(r["family"], []).append(r)
    for fam, rr in fams.items():
        hard = [r for r in rr if not r["distilled"]]
        if not hard:
            continue
        h = hard[0]
        for by in sorted({r["by"] for r in rr if r["distilled"]}):
            mine = [r for r in rr if r["distilled"] and r["by"] == by]
            kd = [r for r in mine if r["name"] in picked] or mine[:1]
            d = kd[0]
            key = "int8_err" if h["int8_err"] is not None and d["int8_err"] is not None else "float_err"
            what = "int8" if key == "int8_err" else "float"
            change = (d[key] - h[key]) / h[key] * 100
            summary.append(f"| {fam} | `{by}` ({fmt(d['teacher_err'])}) | {fmt(h['blob'])} | "
                           f"{h[key]} ({what}) | {d[key]} (`{d['name']}`) | {change:+.1f} % |")
    cmds = summary + ["", "Commands (as run by bench/mnist.sh; `minnow` is target/release/minnow):", ""]
    for r in rs:
        if r["cmd"]:
            cmds.append(f"* `{r['name']}`: `{r['cmd']}`")
    return "\n".join(lines + cmds)


def svg(rs, picked, path):
    pts = [r for r in rs if r["blob"] is not None and r["int8_err"] is not None]
    W, H, L, R, T, B = 640, 400, 70, 170, 30, 50
    if not pts:
        return
    xmax = max(32768, max(r["blob"] for r in pts)) * 1.05
    ymax = max(r["int8_err"] for r in pts) * 1.1
    ymin = 0

    def x(v):
        return L + (W - L - R) * v / xmax

    def y(v):
        return T + (H - T - B) * (1 - (v - ymin) / (ymax - ymin))

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'font-family="sans-serif" font-size="11">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2 - 60}" y="18" font-size="13">MNIST int8 students: test errors vs flash</text>']
    o.append(f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/>')
    o.append(f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>')
    for kb in range(0, int(xmax / 1024) + 1, 4):
        xv = x(kb * 1024)
        o.append(f'<line x1="{xv:.1f}" y1="{H - B}" x2="{xv:.1f}" y2="{H - B + 4}" stroke="black"/>')
        o.append(f'<text x="{xv - 6:.1f}" y="{H - B + 16}">{kb}</text>')
    for budget in (16384, 32768):
        xv = x(budget)
        o.append(f'<line x1="{xv:.1f}" y1="{T}" x2="{xv:.1f}" y2="{H - B}" stroke="#999" '
                 f'stroke-dasharray="4 3"/>')
        o.append(f'<text x="{xv - 40:.1f}" y="{T + 10}" fill="#666">{budget // 1024} KB budget</text>')
    o.append(f'<text x="{(L + W - R) / 2 - 60}" y="{H - 12}">flash: student blob (KiB)</text>')
    step = 10 ** math.floor(math.log10(max(ymax, 1) / 2)) if ymax > 5 else 1
    step *= 5 if ymax / step > 25 else (2 if ymax / step > 10 else 1)
    v = 0
    while v <= ymax:
        yv = y(v)
        o.append(f'<line x1="{L - 4}" y1="{yv:.1f}" x2="{W - R}" y2="{yv:.1f}" stroke="#eee"/>')
        o.append(f'<text x="{L - 8}" y="{yv + 4:.1f}" text-anchor="end">{v}</text>')
        v += step
    o.append(f'<text x="16" y="{(T + H - B) / 2}" transform="rotate(-90 16 {(T + H - B) / 2})" '
             f'text-anchor="middle">int8 test errors (of 10,000)</text>')
    # One colour per teacher: the distilled runs picked on validation filled, the others open,
    # each picked run joined to its family's hard-label run.
    palette = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    teachers = sorted({r["by"] for r in pts if r["distilled"]})
    colour = {t: palette[i % len(palette)] for i, t in enumerate(teachers)}
    fams = {}
    for r in pts:
        fams.setdefault(r["family"], []).append(r)
    for fam, rr in fams.items():
        hard = [r for r in rr if not r["distilled"]]
        for best in (r for r in rr if r["name"] in picked):
            if hard:
                o.append(f'<line x1="{x(hard[0]["blob"]):.1f}" y1="{y(hard[0]["int8_err"]):.1f}" '
                         f'x2="{x(best["blob"]):.1f}" y2="{y(best["int8_err"]):.1f}" '
                         f'stroke="#bbb"/>')
        for r in rr:
            cx, cy = x(r["blob"]), y(r["int8_err"])
            if not r["distilled"]:
                o.append(f'<rect x="{cx - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" fill="#d62728"/>')
            elif r["name"] in picked:
                o.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{colour[r["by"]]}"/>')
            else:
                o.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="none" '
                         f'stroke="{colour[r["by"]]}"/>')
    # One label per flash size: the families there, stacked above the column's lowest point.
    cols = {}
    for r in pts:
        cols.setdefault(r["blob"], set()).add(r["family"])
    for blob, names in cols.items():
        low = min(r["int8_err"] for r in pts if r["blob"] == blob)
        right = x(blob) > (L + W - R) / 2
        anchor, dx = ("end", -10) if right else ("start", 10)
        for i, fam in enumerate(sorted(names)):
            o.append(f'<text x="{x(blob) + dx:.1f}" y="{y(low) + 14 + 12 * i:.1f}" '
                     f'text-anchor="{anchor}" fill="#444">{fam}</text>')
    lx = W - R + 12
    o.append(f'<rect x="{lx}" y="{T + 20}" width="8" height="8" fill="#d62728"/>'
             f'<text x="{lx + 14}" y="{T + 28}">hard labels</text>')
    o.append(f'<text x="{lx}" y="{T + 48}">distilled from</text>')
    ly = T + 64
    for t in teachers:
        o.append(f'<circle cx="{lx + 4}" cy="{ly - 4}" r="5" fill="{colour[t]}"/>'
                 f'<text x="{lx + 14}" y="{ly}">{t}</text>')
        ly += 16
    o.append(f'<text x="{lx}" y="{ly + 4}">filled: T picked on</text>'
             f'<text x="{lx}" y="{ly + 17}">validation; open: other T</text>')
    o.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(o) + "\n")


def main():
    root, md, plot = sys.argv[1:4]
    # Teacher, the paper's 800x800 students, then the MCU families; hard labels first, then the
    # distilled variants by T and hard weight.
    def order(r):
        fam = r["family"]
        rank = 0 if r["teacher"] else (1 if fam.startswith("h800") else 2)
        return (rank, fam, r["distilled"], r["T"] or 0, r["hard"] or 0)

    rs = sorted(runs(root), key=order)
    picked = pick_on_val(rs)
    block = table(rs, picked)
    try:
        with open(md) as f:
            doc = f.read()
    except FileNotFoundError:
        doc = f"# MNIST results\n\n{BEGIN}\n{END}\n"
    if BEGIN in doc and END in doc:
        a, rest = doc.split(BEGIN, 1)
        _, b = rest.split(END, 1)
        doc = f"{a}{BEGIN}\n{block}\n{END}{b}"
    with open(md, "w") as f:
        f.write(doc)
    svg(rs, picked, plot)
    print(f"{len(rs)} runs -> {md}, {plot}")


if __name__ == "__main__":
    main()
