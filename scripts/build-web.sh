#!/usr/bin/env bash
# Builds the playground page into web/dist (a folder any static host can
# serve): the wasm engine when it is missing, the npm packages, then Vite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/wasm/cnn-st.mjs ] && [ -f dist/wasm/cnn-mt.mjs ] || scripts/build-wasm.sh
# The npm registry is the only place these come from (package-lock.json pins them).
[ -x node_modules/.bin/vite ] || npm ci --no-audit --no-fund
node_modules/.bin/vite build --config web/vite.config.mjs --logLevel warn
echo "page built in web/dist"
