"""Writes the small ONNX teachers minnow's tests load (trainer/tests/fixtures/onnx/), and what each
must output on a few inputs.

Run through scripts/onnx-fixtures.sh, which installs the `onnx` and `numpy` packages from PyPI
into a virtualenv; the files it writes are committed, so CI needs no Python.

Every teacher takes the built-in digits (8x8x1, values 0..16, 10 classes) as minnow reads them:

  mlp.onnx        flat input (batch, 64), dynamic batch; Gemm-Relu-Gemm, trained here with numpy
                  on the digits scaled as x/16 - 0.5 (so minnow runs it with --teacher-scale 0.0625
                  --teacher-offset -0.5); outputs logits.
  mlp_probs.onnx  the same network with a Softmax at the end: outputs probabilities
                  (--teacher-output probs).
  cnn.onnx        NCHW input (2, 1, 8, 8): a fixed batch of 2; Conv-Relu-MaxPool-Flatten-Gemm,
                  random weights; outputs logits.
  unsupported.onnx  uses Det, an ONNX op tract does not implement.
  nan.onnx        (batch, 64) -> Log of the first 10 inputs: -inf wherever such a pixel is 0.

NAME.expected.json holds `inputs` (rows of 64 raw values, as minnow hands them over) and
`outputs` (the model's raw outputs on them, computed here with numpy, not by an ONNX runtime,
so the test compares tract against an independent reference), plus the settings to run with.
"""

import gzip
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "trainer", "tests", "fixtures", "onnx")
OPSET = [helper.make_opsetid("", 13)]
SCALE, OFFSET = 1.0 / 16.0, -0.5


def digits():
    path = os.path.join(ROOT, "trainer", "data", "digits.csv.gz")
    rows = np.loadtxt(gzip.open(path, "rt"), delimiter=",", dtype=np.float32)
    return rows[:, :64], rows[:, 64].astype(np.int64)


def train_mlp(x, y, hidden=32, steps=400, lr=0.5, seed=0):
    """Full-batch gradient descent on softmax cross-entropy: a real teacher in a second."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((64, hidden)) * np.sqrt(2.0 / 64)).astype(np.float32)
    b1 = np.zeros(hidden, np.float32)
    w2 = (rng.standard_normal((hidden, 10)) * np.sqrt(1.0 / hidden)).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    onehot = np.eye(10, dtype=np.float32)[y]
    n = len(x)
    for _ in range(steps):
        h = np.maximum(x @ w1 + b1, 0)
        z = h @ w2 + b2
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / n
        gw2, gb2 = h.T @ g, g.sum(0)
        gh = (g @ w2.T) * (h > 0)
        gw1, gb1 = x.T @ gh, gh.sum(0)
        w1 -= lr * gw1
        b1 -= lr * gb1
        w2 -= lr * gw2
        b2 -= lr * gb2
    acc = float(((np.maximum(x @ w1 + b1, 0) @ w2 + b2).argmax(1) == y).mean())
    return (w1, b1, w2, b2), acc


def const(name, array):
    return numpy_helper.from_array(np.asarray(array, dtype=np.float32), name)


def save(model, name):
    onnx.checker.check_model(model)
    path = os.path.join(OUT, name)
    onnx.save(model, path)
    size = os.path.getsize(path)
    assert size < 200_000, f"{name} is {size} bytes"
    return path


def mlp_graph(params, probs):
    w1, b1, w2, b2 = params
    nodes = [
        helper.make_node("Gemm", ["input", "w1", "b1"], ["h1"], transB=1),
        helper.make_node("Relu", ["h1"], ["r1"]),
        helper.make_node("Gemm", ["r1", "w2", "b2"], ["logits"], transB=1),
    ]
    out = "logits"
    if probs:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        out = "probs"
    graph = helper.make_graph(
        nodes,
        "mlp_probs" if probs else "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 10])],
        [const("w1", w1.T), const("b1", b1), const("w2", w2.T), const("b2", b2)],
    )
    return helper.make_model(graph, opset_imports=OPSET, producer_name="minnow-fixtures")


def mlp_forward(params, raw):
    w1, b1, w2, b2 = params
    x = raw * SCALE + OFFSET
    return np.maximum(x @ w1 + b1, 0) @ w2 + b2


def softmax(z):
    p = np.exp(z - z.max(1, keepdims=True))
    return p / p.sum(1, keepdims=True)


def cnn_model(rng):
    w = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    fc = (rng.standard_normal((10, 64)) * 0.2).astype(np.float32)
    fcb = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc", "fcb"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [2, 10])],
        [const("w", w), const("b", b), const("fc", fc), const("fcb", fcb)],
    )
    model = helper.make_model(graph, opset_imports=OPSET, producer_name="minnow-fixtures")
    return model, (w, b, fc, fcb)


def cnn_forward(params, raw):
    w, b, fc, fcb = params
    x = raw.reshape(-1, 1, 8, 8) * SCALE + OFFSET
    n = len(x)
    pad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((n, 4, 8, 8), np.float32)
    for o in range(4):
        for i in range(3):
            for j in range(3):
                conv[:, o] += w[o, 0, i, j] * pad[:, 0, i : i + 8, j : j + 8]
        conv[:, o] += b[o]
    r = np.maximum(conv, 0)
    pooled = r.reshape(n, 4, 4, 2, 4, 2).max(axis=(3, 5))
    return pooled.reshape(n, 64) @ fc.T + fcb


def unsupported_model():
    nodes = [
        helper.make_node("Reshape", ["input", "shape"], ["square"]),
        helper.make_node("Det", ["square"], ["det"]),
    ]
    graph = helper.make_graph(
        nodes,
        "unsupported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("det", TensorProto.FLOAT, ["batch"])],
        [numpy_helper.from_array(np.array([-1, 8, 8], np.int64), "shape")],
    )
    return helper.make_model(graph, opset_imports=OPSET, producer_name="minnow-fixtures")


def nan_model():
    pick = np.zeros((10, 64), np.float32)
    pick[np.arange(10), np.arange(10)] = 1.0
    nodes = [
        helper.make_node("Gemm", ["input", "pick"], ["first"], transB=1),
        helper.make_node("Log", ["first"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "nan",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        [const("pick", pick)],
    )
    return helper.make_model(graph, opset_imports=OPSET, producer_name="minnow-fixtures")


def write_expected(name, settings, inputs, outputs, note):
    doc = {
        "model": name + ".onnx",
        "note": note,
        "settings": settings,
        "inputs": np.asarray(inputs, np.float32).tolist(),
        "outputs": np.asarray(outputs, np.float64).tolist(),
    }
    with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    x, y = digits()
    params, acc = train_mlp(x * SCALE + OFFSET, y)
    print(f"mlp: digits accuracy {acc:.4f} (all 1797 samples)", file=sys.stderr)
    rng = np.random.default_rng(16)
    # Five digits and two out-of-range rows (the transform must not clip).
    inputs = np.concatenate([x[:5], rng.uniform(-4, 20, (2, 64)).astype(np.float32)])
    settings = {"teacher_scale": SCALE, "teacher_offset": OFFSET}
    save(mlp_graph(params, probs=False), "mlp.onnx")
    write_expected("mlp", {**settings, "teacher_output": "logits"}, inputs,
                   mlp_forward(params, inputs), "logits")
    save(mlp_graph(params, probs=True), "mlp_probs.onnx")
    write_expected("mlp_probs", {**settings, "teacher_output": "probs"}, inputs,
                   softmax(mlp_forward(params, inputs)), "probabilities (minnow takes their log)")
    model, cnn_params = cnn_model(rng)
    save(model, "cnn.onnx")
    # Five rows: the fixed batch of 2 is filled twice and padded once.
    write_expected("cnn", {**settings, "teacher_output": "logits", "teacher_layout": "nchw"},
                   inputs[:5], cnn_forward(cnn_params, inputs[:5]), "logits")
    save(unsupported_model(), "unsupported.onnx")
    save(nan_model(), "nan.onnx")
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>8}  {name}", file=sys.stderr)


if __name__ == "__main__":
    main()
