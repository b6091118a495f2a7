#!/usr/bin/env bash
# Benchmarks on request (not part of the tests): the native cnnp-bench and the
# wasm engine in Node, printed as JSON lines.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh native
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target cnnp-bench
[ -f dist/wasm/cnn-st.mjs ] && [ -f dist/wasm/cnn-mt.mjs ] || scripts/build-wasm.sh
echo "== native (cnnp-bench)"
build/cnnp-bench --benchmark_format=console
echo "== wasm in Node"
for t in 1 2; do node bench/wasm-bench.mjs --workload w1 --threads "$t" --json; done
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "== peer: PyTorch CPU"
  for t in 1 2; do /usr/bin/python3 bench/peers/pytorch_workloads.py --workload w1 --threads "$t"; done
else
  echo "(PyTorch peer skipped: Debian's python3-torch is not installed)"
fi
