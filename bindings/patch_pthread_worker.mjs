// usage: node bindings/patch_pthread_worker.mjs cnn-mt.mjs
// Emscripten 3.1.6 (-sEXPORT_ES6 -pthread) starts pthread workers as classic
// workers; make them module workers so bundlers (Vite) can ship them.
// Idempotent; fails loudly when the pattern is not found.
import fs from 'node:fs';

const file = process.argv[2];
const src = fs.readFileSync(file, 'utf8');
const re = /new Worker\(new URL\((["'])([\w.-]+\.worker\.js)\1,\s*import\.meta\.url\)\)/g;
const out = src.replace(re, 'new Worker(new URL($1$2$1,import.meta.url),{type:"module"})');
if (out !== src) fs.writeFileSync(file, out);
else if (!/\.worker\.js["'],\s*import\.meta\.url\),\s*\{type:\s*"module"\}\)/.test(src)) {
  console.error(`patch_pthread_worker: pthread Worker construction not found in ${file}`);
  process.exit(1);
}
