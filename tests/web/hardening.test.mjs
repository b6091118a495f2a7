// What a learner's tab must survive, in headless Chromium: a strict
// Content-Security-Policy the engine still works under, no request beyond
// the page's own origin, folder names treated as text, and a training run
// too large for the memory budget refused in words instead of crashing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { openPage, root, shots } from './browser.mjs';

for (const isolated of [true, false]) {
  const variant = isolated ? 'threaded' : 'single-thread';
  describe(`hardening (${variant})`, () => {
    let page, problems, requests, opened, origin;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnp-hard-'));
    // A class folder whose name is HTML that would run script if parsed.
    const evilClass = '<img src=x onerror="window.__pwned=1">';
    before(async () => {
      const png = fs.readFileSync(path.join(root, 'tests/fixtures/images/rgb.png'));
      for (const c of [evilClass, 'plain'])
        for (let i = 0; i < 3; i++) {
          fs.mkdirSync(path.join(tmp, 'evil', c), { recursive: true });
          fs.writeFileSync(path.join(tmp, 'evil', c, `${i}.png`), png);
        }
      opened = await openPage(18200 + (isolated ? 1 : 2), isolated);
      ({ page, problems, requests } = opened);
      origin = `http://127.0.0.1:${18200 + (isolated ? 1 : 2)}`;
      await page.getByTestId('engine-info').filter({ hasText: 'engine:' }).waitFor({ timeout: 60000 });
    });
    after(async () => {
      await opened?.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('the page runs under a strict Content-Security-Policy (no eval, no inline script)', async () => {
      const response = await page.request.get(`${origin}/`);
      const csp = response.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
      assert.doesNotMatch(csp, /'unsafe-eval'|'unsafe-inline'/);
      // The policy is in force: an inline script put into the page does not run, and says why.
      const violations = await page.evaluate(async () => {
        const seen = [];
        document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
        const s = document.createElement('script');
        s.textContent = 'window.__inlineRan = true';
        document.head.append(s);
        await new Promise((r) => setTimeout(r, 50));
        return { ran: window.__inlineRan === true, seen };
      });
      assert.equal(violations.ran, false);
      assert.ok(violations.seen.length >= 1 && violations.seen.every((d) => d === 'script-src-elem'), violations.seen);
      // ...and the engine works under it: the sample dataset trains a LeNet epoch in the worker.
      await page.getByTestId('nav-data').click();
      await page.getByTestId('found-message').filter({ hasText: '10 classes' }).waitFor({ timeout: 60000 });
      await page.getByTestId('nav-train').click();
      await page.getByTestId('epochs').fill('1');
      await page.getByTestId('train-button').click();
      await page.getByTestId('train-status').filter({ hasText: /^trained 1 epoch/ }).waitFor({ timeout: 120000 });
      // Chromium logs the refused inline script: the expected refusal, not a problem of the page.
      const refusal = /Executing inline script violates the following Content Security Policy/;
      assert.ok(problems.some((p) => refusal.test(p)));
      assert.deepEqual(problems.filter((p) => !refusal.test(p)), []);
      problems.splice(0, problems.length);
    });

    test('folder names are shown as text, never run as HTML', async () => {
      await page.getByTestId('nav-data').click();
      await page.getByTestId('folder-input').setInputFiles(path.join(tmp, 'evil'));
      await page.getByTestId('found-message').filter({ hasText: 'Found 6 images belonging to 2 classes.' })
        .waitFor({ timeout: 60000 });
      await page.getByTestId('class-indices').getByText(evilClass, { exact: true }).waitFor();
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.equal(await page.locator('img[src="x"]').count(), 0);
      assert.deepEqual(problems, []);
    });

    test('ResNet50 unfrozen at 224x224, batch 64: refused with the figures, and the tab goes on', async () => {
      // The sample dataset: enough images for whole batches of 64.
      await page.getByTestId('nav-data').click();
      await page.getByRole('button', { name: 'Use the sample dataset' }).click();
      await page.getByTestId('found-message').filter({ hasText: '10 classes' }).waitFor({ timeout: 60000 });
      await page.locator('#data label', { hasText: /^batch size/ }).locator('input').fill('64');
      await page.locator('#data label', { hasText: /^batch size/ }).locator('input').dispatchEvent('change');
      await page.getByTestId('nav-resnet50').click();
      await page.getByTestId('resnet-size').fill('224');
      await page.getByTestId('freeze-backbone').uncheck();  // before building: the model starts unfrozen
      await page.getByTestId('resnet-build').click();
      await page.getByTestId('resnet-params').filter({ hasText: 'Total params: 23,608,202' }).waitFor({ timeout: 120000 });
      await page.getByTestId('nav-train').click();
      await page.getByTestId('epochs').fill('1');
      await page.getByTestId('train-button').click();
      const problem = page.getByTestId('train-problem');
      await problem.filter({ hasText: /at batch size 64 needs about [\d.]+ GiB/ }).waitFor({ timeout: 120000 });
      assert.match(await problem.textContent(), /more than the memory budget of 2\.0 GiB: a batch size of \d+ or less would fit; freezing layers/);
      await page.screenshot({ path: path.join(shots, `memory-guard-${variant}.png`), fullPage: true });
      // The engine still answers: the backbone freezes (and the head's 2048 x 10 + 10 weights alone train).
      await page.getByTestId('nav-resnet50').click();
      await page.getByTestId('freeze-backbone').check();
      await page.getByTestId('resnet-params').filter({ hasText: 'Trainable params: 20,490' }).waitFor({ timeout: 30000 });
      assert.deepEqual(problems, []);
    });

    test('no request leaves the page\'s origin', async () => {
      const elsewhere = requests.filter((u) => !u.startsWith(`${origin}/`) && !/^(data|blob):/.test(u));
      assert.deepEqual(elsewhere, []);
      assert.ok(requests.some((u) => u.endsWith('.wasm')), 'the engine was loaded from the origin');
    });
  });
}
