#!/usr/bin/env bash
# Every test suite: installs what is missing, builds (-j2) and runs
#   1. the native GoogleTest suite (release build); where nvcc is found, the
#      CUDA backend is compiled into it and its GPU tests run (or skip,
#      saying why, without a GPU),
#   2. the same suite compiled to WebAssembly, single-thread and threaded (node),
#   3. the JS API suites (node:test, tests/js/) against both wasm variants,
#   4. the page in headless Chromium (tests/web/), with and without COOP/COEP,
#   5. the native suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
#   6. where clang 14 and its libFuzzer runtime are installed, a short fuzz run of every parser.
# Usage: scripts/test.sh [--no-sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."

sanitize=1
for arg in "$@"; do
  case "$arg" in
    --no-sanitize) sanitize=0 ;;
    *) echo "test.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

scripts/install-deps.sh native

echo "== native release build and tests"
configured=$(cmake -S . -B build -DCMAKE_BUILD_TYPE=Release)
grep "CUDA backend" <<<"$configured" || true
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2

echo "== WebAssembly builds and the core suite in wasm"
scripts/build-wasm.sh --with-tests
# Each runs the suite over the SIMD128 and the relaxed-SIMD kernels, side by side.
ctest --test-dir build-wasm-st --output-on-failure -j2
ctest --test-dir build-wasm-mt --output-on-failure -j2

echo "== the page's build (the npm package ships it)"
scripts/install-deps.sh web
scripts/build-web.sh

echo "== JS API suites (node:test) against both wasm variants"
node --test tests/js/

echo "== the page in headless Chromium"
node --test tests/web/

if [ "$sanitize" = 1 ]; then
  scripts/sanitize.sh
fi

# Longer runs: npm run fuzz (scripts/fuzz.sh installs clang and its runtime).
if scripts/fuzz-toolchain.sh check; then
  echo "== a short fuzz run of every parser (30 s each)"
  scripts/fuzz.sh --seconds 30 --jobs 2
fi
