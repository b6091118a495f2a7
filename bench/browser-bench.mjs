// LeNet training in headless Chromium vs the same wasm build in Node, in one
// run, single-thread and threaded:
//   w1          the engine's W1 workload in a browser worker (bench/browser/w1.html)
//               and in Node (bench/workloads/w1.mjs);
//   page-train  the playground page training its sample dataset (28x28 grayscale)
//               from the Train section, curves and progress drawn, vs the same
//               training in Node (bench/workloads/sample-train.mjs).
// Both sides run the same module (relaxed SIMD where Chromium has it).
// usage: node bench/browser-bench.mjs [--seconds 5] [--json]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import v8 from 'node:v8';

import { loadCnn } from '../bindings/js/index.mjs';
import { hasRelaxedSimd, relaxedSimdModule } from '../bindings/js/wasm-features.mjs';
import { runSampleTraining } from './workloads/sample-train.mjs';
import { runW1 } from './workloads/w1.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 5) || 5;
const json = args.includes('--json');
// page-train's epochs: 30 of the sample dataset's 450 training images last
// about 1.5 s at 9,000 images/s; 6 (0.3 s) left the figure to the first
// epochs' warm-up.
const PAGE_EPOCHS = 30;
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm' };

// The repository over HTTP with COOP/COEP (the threaded build needs them).
const server = http.createServer((req, res) => {
  const file = path.normalize(path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) return res.writeHead(404).end();
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
                       'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'cnnp-bench-')), {
  executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'],
});

// Node runs the module Chromium picks: the relaxed-SIMD one where Chromium
// validates relaxed SIMD (Node 20 needs V8's flag for it), else SIMD128.
const probe = await browser.newPage();
const chromiumRelaxed = await probe.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), [...relaxedSimdModule]);
await probe.close();
if (chromiumRelaxed && !hasRelaxedSimd()) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
const simd = chromiumRelaxed ? 'relaxed' : 'simd128';

async function inChromium(threads) {
  const page = await browser.newPage();
  await page.goto(`${base}/bench/browser/w1.html?threads=${threads}&seconds=${seconds}`);
  await page.waitForFunction(() => window.result, null, { timeout: (seconds + 60) * 1000 });
  const r = await page.evaluate(() => window.result);
  await page.close();
  if (r.error) throw new Error(`W1 in Chromium: ${r.error}`);
  return r;
}
async function inNode(threads, run) {
  const cnn = await loadCnn({ threads: threads === 2, simd });
  try {
    return { ...(await run(cnn)), variant: cnn.backend.variant, simd: cnn.backend.simd };
  } finally {
    cnn.dispose();
  }
}

// The page's own Train section on its sample dataset (it reports images/s).
async function playgroundPage(threads) {
  const serve = spawn(process.execPath, [path.join(root, 'scripts/serve.mjs'), ...(threads === 2 ? [] : ['--no-isolation'])],
                      { env: { ...process.env, PORT: '18399' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => serve.stdout.on('data', (d) => d.toString().includes('CNN Playground on') && r()));
  const page = await browser.newPage();
  try {
    await page.goto('http://127.0.0.1:18399/?persist=0');
    await page.getByTestId('nav-data').click();
    await page.getByTestId('found-message').filter({ hasText: '10 classes' }).waitFor({ timeout: 60000 });
    await page.getByTestId('nav-train').click();
    await page.getByTestId('epochs').fill(String(PAGE_EPOCHS));
    await page.getByTestId('train-button').click();
    await page.getByTestId('train-status').filter({ hasText: `trained ${PAGE_EPOCHS} epochs` }).waitFor({ timeout: 180000 });
    const text = await page.getByTestId('images-per-second').textContent();
    return { images_per_s: Number(text.match(/\d+/)[0]) };
  } finally {
    await page.close();
    serve.kill();
  }
}

const rows = [];
for (const threads of [1, 2]) {
  const node = await inNode(threads, (cnn) => runW1(cnn, { seconds }));
  const browserRun = await inChromium(threads);
  if (browserRun.simd !== node.simd) throw new Error(`Chromium ran ${browserRun.simd}, Node ${node.simd}`);
  rows.push({ workload: 'w1', threads, variant: node.variant, simd: node.simd, node_images_per_s: node.images_per_s,
              chromium_images_per_s: browserRun.images_per_s,
              ratio: +(browserRun.images_per_s / node.images_per_s).toFixed(3) });
}
for (const threads of [1, 2]) {
  const node = await inNode(threads, (cnn) => runSampleTraining(cnn, { epochs: PAGE_EPOCHS }));
  const pageRun = await playgroundPage(threads);
  rows.push({ workload: 'page-train', threads, variant: node.variant, simd: node.simd, node_images_per_s: node.images_per_s,
              chromium_images_per_s: pageRun.images_per_s, ratio: +(pageRun.images_per_s / node.images_per_s).toFixed(3) });
}
await browser.close();
server.close();
for (const r of rows)
  console.log(json ? JSON.stringify(r)
                   : `${r.workload} ${r.variant} ${r.simd}: Chromium ${r.chromium_images_per_s} images/s, Node ${r.node_images_per_s} ` +
                     `images/s, ratio ${r.ratio}`);
