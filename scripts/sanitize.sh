#!/usr/bin/env bash
# Debug build of the native tests under AddressSanitizer + UndefinedBehaviorSanitizer;
# any report fails the run (UBSan does not recover, ASan aborts on the first error).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh native
echo "== native debug build under ASan + UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCNN_SANITIZE=ON >/dev/null
cmake --build build-asan -j2 --target test_binaries
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j2
