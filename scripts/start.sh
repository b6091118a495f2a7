#!/usr/bin/env bash
# Installs what is missing, builds the engine and the page, and serves it on
# http://127.0.0.1:${PORT:-8080} with the headers the threaded engine needs.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh native wasm
scripts/build-wasm.sh
scripts/build-web.sh
exec node scripts/serve.mjs
