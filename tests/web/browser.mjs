// Shared by the browser suites: the page served and opened in Debian's
// headless Chromium, what it logged and requested, and generated folders.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const shots = path.join(root, 'tests/web/screenshots');

async function serve(port, isolated) {
  const args = [path.join(root, 'scripts/serve.mjs')];
  if (!isolated) args.push('--no-isolation');
  const proc = spawn(process.execPath, args, { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => d.toString().includes('CNN Playground on') && resolve());
    proc.on('exit', (code) => reject(new Error(`the server exited with ${code}`)));
  });
  return proc;
}

// Serves the page and opens it in a fresh headless Chromium; console errors
// and page errors are collected in `problems`, and the URL of every request
// the page and its workers make in `requests`.
export async function openPage(port, isolated) {
  const server = await serve(port, isolated);
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'pw-')), {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  const requests = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  return { server, context, page, problems, requests, close: async () => { await context.close(); server.kill(); } };
}

// A learnable folder of 4 classes (the engine's generated shapes as PNGs),
// plus a corrupt image and a text file that must be reported and skipped.
export async function writeShapesFolder(dir) {
  const { loadCnn } = await import('../../bindings/js/index.mjs');
  const cnn = await loadCnn({ threads: false });
  const task = cnn.data.syntheticTask({ samples: 800, height: 28, width: 28, classes: 4, seed: 3 });
  const px = task.x.dataSync(), labels = task.y.dataSync();
  for (let k = 0; k < 4; k++) fs.mkdirSync(path.join(dir, `shape_${k}`), { recursive: true });
  for (let i = 0; i < 800; i++) {
    const png = cnn.data.encodePng({ data: px.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] });
    fs.writeFileSync(path.join(dir, `shape_${labels[i]}`, `${String(i).padStart(3, '0')}.png`), png);
  }
  fs.copyFileSync(path.join(root, 'tests/fixtures/images/truncated.jpg'), path.join(dir, 'shape_0', 'broken.jpg'));
  fs.writeFileSync(path.join(dir, 'shape_1', 'readme.txt'), 'not an image');
  task.x.dispose();
  task.y.dispose();
}
