// The page in a real headless Chromium (Debian's), driven by playwright-core:
// served with and without COOP/COEP (threaded and single-thread engine).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shots = path.join(root, 'tests/web/screenshots');

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
// and page errors are collected in `problems`.
async function openPage(port, isolated) {
  const server = await serve(port, isolated);
  const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'pw-')), {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  return { server, context, page, problems, close: async () => { await context.close(); server.kill(); } };
}

for (const isolated of [true, false]) {
  describe(`page (${isolated ? 'cross-origin isolated' : 'not isolated'})`, () => {
    let page, problems, opened;
    before(async () => {
      opened = await openPage(18080 + (isolated ? 1 : 2), isolated);
      ({ page, problems } = opened);
    });
    after(() => opened?.close());

    test('the engine starts in the right build and says which', async () => {
      const info = page.getByTestId('engine-info');
      await info.filter({ hasText: 'engine:' }).waitFor({ timeout: 30000 });
      assert.match(await info.textContent(), isolated ? /engine: threaded/ : /engine: single-thread/);
    });

    test("the convolution section shows the course's result", async () => {
      await page.getByTestId('nav-convolution').click();
      await page.getByTestId('conv-run').click();
      const cells = await page.getByTestId('conv-result').locator('td').allTextContents();
      assert.deepEqual(cells.map(Number), [4, 3, 4, 2, 4, 3, 2, 3, 4]);
      await page.getByTestId('size-K').fill('5');
      assert.match(await page.getByTestId('output-size').textContent(), /= 28$/);
      // The engine filtered the sample image (Sobel) without errors.
      await page.getByText('Convolved').waitFor({ timeout: 30000 });
      fs.mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, `convolution${isolated ? '' : '-single-thread'}.png`), fullPage: true });
      assert.deepEqual(problems, []);
    });
  });
}

describe('page: data section', () => {
  let page, problems, opened;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnp-data-'));
  before(async () => {
    // A small folder: two classes of four images, one stray text file, and a
    // folder without class folders.
    const png = fs.readFileSync(path.join(root, 'tests/fixtures/images/rgb.png'));
    for (const c of ['cats', 'dogs']) {
      fs.mkdirSync(path.join(tmp, 'pets', c), { recursive: true });
      for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(tmp, 'pets', c, `${i}.png`), png);
    }
    fs.writeFileSync(path.join(tmp, 'pets', 'dogs', 'notes.txt'), 'not an image');
    fs.mkdirSync(path.join(tmp, 'flat'));
    fs.writeFileSync(path.join(tmp, 'flat', 'a.png'), png);
    opened = await openPage(18090, true);
    ({ page, problems } = opened);
    await page.getByTestId('nav-data').click();
  });
  after(async () => {
    await opened?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the sample dataset is loaded for a newcomer', async () => {
    const found = page.getByTestId('found-message');
    await found.filter({ hasText: 'belonging to 10 classes.' }).waitFor({ timeout: 60000 });
    assert.match(await found.textContent(), /^Found \d+ images belonging to 10 classes\.\nFound \d+ images belonging to 10 classes\.$/);
  });

  test('the model section summarises LeNet like Keras and explains impossible layers', async () => {
    await page.getByTestId('nav-model').click();
    const summary = page.getByTestId('model-summary');
    await summary.filter({ hasText: 'Total params: 61,706' }).waitFor({ timeout: 30000 });  // 10 sample classes
    assert.match(await summary.textContent(), /average_pooling2d \(AverageP/);
    // The second Conv2D ('valid' padding) sees 14x14 maps: a 40x40 kernel cannot fit.
    const firstKernel = page.locator('.layers tr').nth(3).locator('input').nth(1);
    await firstKernel.fill('40');
    await firstKernel.dispatchEvent('change');
    await page.getByText(/larger than the input/).waitFor({ timeout: 30000 });
    await page.screenshot({ path: path.join(shots, 'model.png'), fullPage: true });
    await firstKernel.fill('5');
    await firstKernel.dispatchEvent('change');
    await summary.filter({ hasText: 'Total params: 61,706' }).waitFor({ timeout: 30000 });
    await page.getByTestId('nav-data').click();
  });

  test('an uploaded folder gives Keras’s message and class_indices', async () => {
    await page.getByTestId('folder-input').setInputFiles(path.join(tmp, 'pets'));
    const found = page.getByTestId('found-message');
    await found.filter({ hasText: 'belonging to 2 classes.' }).waitFor({ timeout: 30000 });
    assert.equal(await found.textContent(), 'Found 6 images belonging to 2 classes.\nFound 2 images belonging to 2 classes.');
    const rows = await page.getByTestId('class-indices').locator('tr').allTextContents();
    assert.deepEqual(rows.slice(1), ['cats031', 'dogs131']);
    await page.getByText(/dogs\/notes\.txt/).waitFor();
    fs.mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: path.join(shots, 'data.png'), fullPage: true });
  });

  test('a folder without class folders is explained', async () => {
    await page.getByTestId('folder-input').setInputFiles(path.join(tmp, 'flat'));
    await page.getByText(/no class folders/).waitFor({ timeout: 30000 });
    assert.deepEqual(problems, []);
  });
});
