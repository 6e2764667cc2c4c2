#!/usr/bin/env bash
# Rewrites the ONNX teachers the tests load (trainer/tests/fixtures/onnx/) with
# scripts/onnx_fixtures.py. Installs the `onnx` and `numpy` packages from PyPI into
# target/venv-onnx (ignored by git) the first time. The fixtures are committed: CI needs no Python.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/venv-onnx
if ! "$venv/bin/python" -c "import onnx, numpy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --progress-bar off onnx numpy
fi
"$venv/bin/python" scripts/onnx_fixtures.py
