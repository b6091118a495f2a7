#!/usr/bin/env bash
# Debug build of the native tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# any report fails the run (UBSan does not recover, ASan aborts on the first error).
set -euo pipefail
cd "$(dirname "$0")/.."
# Where clang's libFuzzer runtime is installed, the build is the fuzzers'
# (build-fuzz): one sanitized compile of the engine serves both.
scripts/install-deps.sh native
if scripts/fuzz-toolchain.sh check; then
  echo "== native debug build under ASan + UBSan (clang 14, shared with the fuzz targets)"
  scripts/fuzz-toolchain.sh configure
  dir=build-fuzz
else
  echo "== native debug build under ASan + UBSan"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCNN_SANITIZE=ON >/dev/null
  dir=build-asan
fi
cmake --build "$dir" -j2 --target test_binaries
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$dir" --output-on-failure -j2
