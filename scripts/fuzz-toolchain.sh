#!/usr/bin/env bash
# The clang build that the fuzzers and the sanitizer suite share (build-fuzz:
# clang 14, ASan + UBSan, libFuzzer's coverage), so npm test compiles the
# engine under the sanitizers once.
# Usage: scripts/fuzz-toolchain.sh check       exit 0 where clang 14 and libFuzzer's runtime are installed
#        scripts/fuzz-toolchain.sh configure   configure build-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  check)
    command -v clang++-14 >/dev/null &&
      dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed" ;;
  configure)
    # Every option given, so a folder configured by an older script is reset.
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCNN_SANITIZE=ON -DCNN_FUZZ=ON \
      -DCNN_BUILD_TESTS=ON >/dev/null ;;
  *) echo "fuzz-toolchain.sh: expected 'check' or 'configure'" >&2; exit 2 ;;
esac
