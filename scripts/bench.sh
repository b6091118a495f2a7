#!/usr/bin/env bash
# Benchmarks on request (not part of the tests): the engine against its peers
# on this machine, alternating rounds, median ratios (bench/compare.mjs), then
# the wasm engine in Node. Figures go to bench/RESULTS.md by hand, with the
# machine and the command.
# Usage: scripts/bench.sh [--rounds N]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5
[ "${1:-}" = "--rounds" ] && rounds="$2"
scripts/install-deps.sh native bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target cnnp-bench openblas-sgemm
[ -f dist/wasm/cnn-st.mjs ] && [ -f dist/wasm/cnn-mt.mjs ] && [ -f dist/wasm/cnn-st-relaxed.mjs ] &&
  [ -f dist/wasm/cnn-mt-relaxed.mjs ] || scripts/build-wasm.sh
# The JS peers (ONNX Runtime, TensorFlow.js, ConvNetJS) from the npm registry;
# no install scripts (onnxruntime-node's would fetch CUDA binaries).
npm --prefix bench/peers ci --ignore-scripts --no-audit --no-fund
[ -f bench/peers/.cache/resnet50.onnx ] || /usr/bin/python3 bench/peers/export_resnet50_onnx.py
echo "== engine vs peers (median of $rounds alternating rounds)"
node bench/compare.mjs --rounds "$rounds"
