#!/usr/bin/env bash
# Every test suite: installs what is missing, builds (-j2) and runs the native
# GoogleTest suite in a release build, then again under AddressSanitizer and
# UndefinedBehaviorSanitizer in a debug build.
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
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure -j2

if [ "$sanitize" = 1 ]; then
  scripts/sanitize.sh
fi
