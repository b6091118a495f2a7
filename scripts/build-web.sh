#!/usr/bin/env bash
# Builds the playground page into web/dist (a folder any static host can
# serve): the wasm engine when it is missing, the npm packages, then Vite.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/wasm/cnn-st.mjs ] && [ -f dist/wasm/cnn-mt.mjs ] && [ -f dist/wasm/cnn-st-relaxed.mjs ] &&
  [ -f dist/wasm/cnn-mt-relaxed.mjs ] || scripts/build-wasm.sh
# The npm registry is the only place these come from (package-lock.json pins them).
# Installed again whenever the lock file changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node_modules/.bin/vite build --config web/vite.config.mjs --logLevel warn
echo "page built in web/dist"
