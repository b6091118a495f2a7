// The soak test: the playground trains LeNet continuously in headless
// Chromium for a while (30 minutes by default), and the engine's wasm heap,
// the allocator's bytes in use and the page's JS heap are sampled every
// minute. Flat curves mean no leak; the figures go to bench/RESULTS.md.
//
// Usage: node bench/soak.mjs [--minutes 30] [--no-isolation]   (npm run soak; builds nothing: npm run build first)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { flag, option } from './cli-args.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const minutes = Number(option('minutes', '30'));
const isolated = !flag('no-isolation');
const port = 18400;

const server = spawn(process.execPath, [path.join(root, 'scripts/serve.mjs'), ...(isolated ? [] : ['--no-isolation'])],
                     { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((resolve, reject) => {
  server.stdout.on('data', (d) => d.toString().includes('CNN Playground on') && resolve());
  server.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
});
const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'soak-')), {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--enable-precise-memory-info'],
});
const problems = [];
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(`http://127.0.0.1:${port}/?persist=0`);
  await page.getByTestId('nav-data').click();
  await page.getByTestId('found-message').filter({ hasText: '10 classes' }).waitFor({ timeout: 120000 });
  await page.getByTestId('nav-train').click();
  await page.getByTestId('epochs').fill('100000');
  await page.getByTestId('train-button').click();
  await page.getByTestId('images-per-second').filter({ hasText: 'images/s' }).waitFor({ timeout: 60000 });

  const sample = () => page.evaluate(async () => {
    const h = await globalThis.cnnPlaygroundDiagnostics.heap();
    return { wasmHeap: h.heapSize, allocated: h.used, tensors: h.tensors, jsHeap: performance.memory?.usedJSHeapSize ?? null,
             progress: document.querySelector('.progress .note')?.textContent ?? '' };
  });
  const mib = (b) => (b == null ? 'n/a' : (b / 2 ** 20).toFixed(1));
  const rows = [];
  console.log(`soak: ${minutes} minutes of LeNet training (${isolated ? 'threaded' : 'single-thread'} engine)`);
  console.log('minute | wasm heap MiB | allocated MiB | tensors MiB | page JS heap MiB | progress');
  for (let m = 0; m <= minutes; m++) {
    if (m > 0) await page.waitForTimeout(60000);
    const s = await sample();
    rows.push(s);
    console.log(`${String(m).padStart(6)} | ${mib(s.wasmHeap).padStart(13)} | ${mib(s.allocated).padStart(13)} | ` +
                `${mib(s.tensors).padStart(11)} | ${mib(s.jsHeap).padStart(16)} | ${s.progress}`);
  }
  // Growth from the first full minute to the end (the first minute includes warm-up).
  const from = rows[Math.min(1, rows.length - 1)], to = rows.at(-1);
  const growth = (a, b) => (a ? ((b - a) / a) * 100 : 0);
  console.log(`growth from minute 1 to ${minutes}: wasm heap ${growth(from.wasmHeap, to.wasmHeap).toFixed(1)}%, ` +
              `allocated ${growth(from.allocated, to.allocated).toFixed(1)}%, JS heap ${growth(from.jsHeap, to.jsHeap).toFixed(1)}%`);
  console.log(problems.length ? `page problems: ${problems.join(' | ')}` : 'no console errors');
  await page.getByTestId('stop-button').click({ timeout: 10000 }).catch(() => {});  // closing the browser stops it anyway
} finally {
  await context.close();
  server.kill();
}
