#!/usr/bin/env bash
# Builds the WebAssembly engine in both variants (single-thread and pthreads),
# each as a SIMD128 module and a relaxed-SIMD one (fused multiply-adds; the
# loader picks it where the engine has relaxed SIMD), and copies the loaders
# and .wasm files to dist/wasm/, where the npm package and the page find them.
# Usage: scripts/build-wasm.sh [--with-tests]   (also builds the wasm GoogleTest suite)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(--target cnn_wasm --target cnn_wasm_relaxed)
for arg in "$@"; do
  case "$arg" in
    --with-tests) targets+=(--target core_tests --target core_tests_relaxed) ;;
    *) echo "build-wasm.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh wasm
# Debian's emscripten finds acorn only through NODE_PATH.
export NODE_PATH=/usr/share/nodejs
node_exe=$(command -v node || command -v nodejs)

for variant in st mt; do
  threads=OFF
  [ "$variant" = mt ] && threads=ON
  echo "== wasm build ($variant)"
  # Node 20 needs no wasm flags, and --no-experimental-fetch makes the test
  # binaries read their .wasm from disk.
  emcmake cmake -S . -B "build-wasm-$variant" -DCMAKE_BUILD_TYPE=Release -DCNN_WASM_THREADS=$threads -DCNN_WASM_RELAXED_SIMD=ON \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_exe;--no-experimental-fetch" >/dev/null
  cmake --build "build-wasm-$variant" -j2 "${targets[@]}"
done

mkdir -p dist/wasm
for name in cnn-st cnn-st-relaxed; do
  cp "build-wasm-st/$name.mjs" "build-wasm-st/$name.wasm" dist/wasm/
done
for name in cnn-mt cnn-mt-relaxed; do
  cp "build-wasm-mt/$name.mjs" "build-wasm-mt/$name.wasm" "build-wasm-mt/$name.worker.js" dist/wasm/
done
echo "wasm build: $(cd dist/wasm && ls | tr '\n' ' ')"
