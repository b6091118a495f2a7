#!/usr/bin/env bash
# Builds the WebAssembly engine in both variants (single-thread and pthreads)
# and copies the loaders and .wasm files to dist/wasm/, where the npm package
# and the page find them.
# Usage: scripts/build-wasm.sh [--with-tests]   (also builds the wasm GoogleTest suite)
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(--target cnn_wasm)
for arg in "$@"; do
  case "$arg" in
    --with-tests) targets+=(--target core_tests) ;;
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
  emcmake cmake -S . -B "build-wasm-$variant" -DCMAKE_BUILD_TYPE=Release -DCNN_WASM_THREADS=$threads \
    "-DCMAKE_CROSSCOMPILING_EMULATOR=$node_exe;--no-experimental-fetch" >/dev/null
  cmake --build "build-wasm-$variant" -j2 "${targets[@]}"
done

mkdir -p dist/wasm
cp build-wasm-st/cnn-st.mjs build-wasm-st/cnn-st.wasm dist/wasm/
cp build-wasm-mt/cnn-mt.mjs build-wasm-mt/cnn-mt.wasm build-wasm-mt/cnn-mt.worker.js dist/wasm/
echo "wasm build: $(cd dist/wasm && ls | tr '\n' ' ')"
