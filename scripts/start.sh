#!/usr/bin/env bash
# Installs what is missing and builds the engine. The playground page (web/)
# is not written yet; until it is, this builds the native engine and its CLI
# and shows what they do.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh native
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target cnnp
echo
echo "The engine and its CLI are built (build/cnnp). The browser playground is not part of this"
echo "version yet. Meanwhile, the course's LeNet as Keras prints it:"
echo
build/cnnp summary --model tests/fixtures/keras/lenet_sequential.json
