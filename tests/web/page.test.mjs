// The page in a real headless Chromium (Debian's), driven by playwright-core:
// served with and without COOP/COEP (threaded and single-thread engine).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { relaxedSimdModule } from '../../bindings/js/wasm-features.mjs';
import { openPage, root, shots, writeShapesFolder } from './browser.mjs';

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
      // The relaxed-SIMD build (fused multiply-adds) wherever the browser validates it.
      const relaxed = await page.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), [...relaxedSimdModule]);
      assert.match(await info.textContent(), relaxed ? /wasm-relaxed-simd/ : /wasm-simd128/);
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

    test('<cnn-playground> embeds chosen sections and a preset in a course page', async () => {
      await page.goto(page.url().replace(/\/[^/]*$/, '/embed.html'));
      const conv = page.frameLocator('cnn-playground#convolution >> iframe');
      await conv.getByTestId('nav-convolution').waitFor({ timeout: 30000 });
      assert.equal(await conv.locator('nav button').count(), 1);
      await conv.getByTestId('conv-run').click();
      assert.deepEqual((await conv.getByTestId('conv-result').locator('td').allTextContents()).map(Number),
                       [4, 3, 4, 2, 4, 3, 2, 3, 4]);
      const model = page.frameLocator('cnn-playground#model >> iframe');
      assert.deepEqual(await model.locator('nav button').allTextContents(), ['Data', 'Model']);
      await model.getByTestId('nav-model').click();
      await model.getByTestId('model-summary').filter({ hasText: '(None, 148, 148, 16)' }).waitFor({ timeout: 60000 });
      await page.screenshot({ path: path.join(shots, `embed${isolated ? '' : '-single-thread'}.png`), fullPage: true });
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
    // An augmentation layer goes first, whatever the layers, and adds no parameters.
    await page.getByLabel('kind of layer to add').selectOption('RandomFlip');
    await page.getByRole('button', { name: 'Add layer' }).click();
    await summary.filter({ hasText: 'random_flip (RandomFlip)' }).waitFor({ timeout: 30000 });
    assert.match(await summary.textContent(), /=\n random_flip \(RandomFlip\) +\(None, 28, 28, 1\) +0 +\n[^]*Total params: 61,706\n/);
    await page.getByRole('button', { name: 'remove layer 1 (RandomFlip)' }).click();
    await summary.filter({ hasNotText: 'random_flip' }).waitFor({ timeout: 30000 });
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

/** Milliseconds from a click's input event to the frame after its handler: what the learner waits. */
async function clickLatency(page, testid) {
  await page.evaluate(() => {
    window.__latency = null;
    document.addEventListener('click', (e) => {
      const t0 = e.timeStamp;
      requestAnimationFrame(() => setTimeout(() => { window.__latency = performance.now() - t0; }, 0));
    }, { capture: true, once: true });
  });
  await page.getByTestId(testid).click();
  await page.waitForFunction(() => window.__latency != null);
  return page.evaluate(() => window.__latency);
}

for (const isolated of [true, false]) {
  const variant = isolated ? '' : '-single-thread';
  describe(`page: train, inspect, save (${isolated ? 'threaded' : 'single-thread'})`, () => {
    let page, problems, opened, validationImages;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnp-train-'));
    const sampleImage = () => path.join(tmp, 'shapes', 'shape_2', fs.readdirSync(path.join(tmp, 'shapes', 'shape_2')).sort()[0]);
    before(async () => {
      await writeShapesFolder(path.join(tmp, 'shapes'));
      fs.writeFileSync(path.join(tmp, 'not-a-model.cnnp'), 'hello');
      opened = await openPage(18100 + (isolated ? 1 : 2), isolated);
      ({ page, problems } = opened);
    });
    after(async () => {
      await opened?.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('an uploaded folder trains LeNet two epochs above chance, and the page stays responsive', async () => {
      await page.getByTestId('nav-data').click();
      await page.getByTestId('found-message').filter({ hasText: '10 classes' }).waitFor({ timeout: 60000 });
      await page.getByTestId('folder-input').setInputFiles(path.join(tmp, 'shapes'));
      const found = page.getByTestId('found-message');
      await found.filter({ hasText: 'belonging to 4 classes.' }).waitFor({ timeout: 60000 });
      // 801 image files split per class as Keras splits them; the corrupt one is then left out.
      const counts = (await found.textContent()).match(/^Found (\d+) images belonging to 4 classes\.\nFound (\d+) images/);
      assert.equal(Number(counts[1]) + Number(counts[2]), 800);
      validationImages = Number(counts[2]);
      await page.getByText(/shape_0\/broken\.jpg/).waitFor();  // the corrupt image is named and skipped
      await page.getByTestId('nav-model').click();
      await page.getByTestId('preset-lenet').click();
      await page.getByTestId('model-summary').filter({ hasText: 'Total params: 61,196' }).waitFor({ timeout: 30000 });

      await page.getByTestId('nav-train').click();
      await page.getByTestId('epochs').fill('2');
      await page.getByTestId('train-button').click();
      await page.getByTestId('images-per-second').filter({ hasText: 'images/s' }).waitFor({ timeout: 30000 });
      const latency = await clickLatency(page, 'nav-inspect');
      assert.ok(latency < 200, `a click during training took ${latency.toFixed(0)} ms to be handled`);
      assert.equal(await page.locator('#inspect').isVisible(), true);
      await page.getByTestId('nav-train').click();
      await page.getByTestId('train-status').filter({ hasText: 'trained 2 epochs' }).waitFor({ timeout: 120000 });
      const valAccuracy = Number(await page.getByTestId('val-accuracy').textContent());
      assert.ok(valAccuracy > 0.5, `val_accuracy ${valAccuracy} after 2 epochs (chance: 0.25)`);
      assert.equal(await page.getByTestId('epoch-progress').evaluate((p) => p.value), 1);
      assert.equal(await page.getByTestId('train-problem').textContent(), '');
      await page.screenshot({ path: path.join(shots, `train${variant}.png`), fullPage: true });
    });

    test('pause holds training still, resume goes on, stop closes the epoch', async () => {
      await page.getByTestId('epochs').fill('30');
      await page.getByTestId('train-button').click();
      await page.getByTestId('images-per-second').filter({ hasText: 'images/s' }).waitFor({ timeout: 30000 });
      await page.getByTestId('pause-button').click();
      await page.getByTestId('train-status').filter({ hasText: 'paused' }).waitFor({ timeout: 10000 });
      const where = await page.locator('.progress .note').textContent();
      await page.waitForTimeout(400);
      assert.equal(await page.locator('.progress .note').textContent(), where);
      // The data and the model cannot change under the (paused) training.
      const sampleButton = page.locator('#data button', { hasText: 'Use the sample dataset' });
      assert.equal(await sampleButton.isDisabled(), true);
      await page.getByTestId('pause-button').click();  // resume
      await page.getByTestId('train-status').filter({ hasText: 'training' }).waitFor({ timeout: 10000 });
      await page.getByTestId('stop-button').click();
      await page.getByTestId('train-status').filter({ hasText: /^trained \d+ epochs$/ }).waitFor({ timeout: 30000 });
      const epochs = Number((await page.getByTestId('train-status').textContent()).match(/\d+/)[0]);
      assert.ok(epochs >= 3 && epochs < 32, `${epochs} epochs after a stop`);
      assert.equal(await sampleButton.isDisabled(), false);
    });

    test('SGD and Adam train the same model; Adam gets further in two epochs', async () => {
      const epochsBox = page.locator('#train label', { hasText: /^epochs/ }).nth(1).locator('input');
      await epochsBox.fill('2');
      await page.getByTestId('compare-button').click();
      const status = page.getByTestId('compare-status');
      await status.filter({ hasText: 'final training loss' }).waitFor({ timeout: 120000 });
      const [, sgd, adam] = (await status.textContent()).match(/SGD ([\d.]+), Adam ([\d.]+)/).map(Number);
      assert.ok(adam < sgd, `Adam's loss ${adam} is not below SGD's ${sgd}`);
      await page.screenshot({ path: path.join(shots, `compare${variant}.png`), fullPage: true });
    });

    test('inspect shows filters, feature maps, the confusion matrix and top-5 predictions', async () => {
      await page.getByTestId('nav-inspect').click();
      await page.getByTestId('show-filters').click();
      await page.getByTestId('filters').locator('canvas').nth(5).waitFor({ timeout: 30000 });
      assert.equal(await page.getByTestId('filters').locator('canvas').count(), 6);
      await page.getByTestId('show-maps').click();
      await page.getByTestId('feature-maps').locator('h4').nth(1).waitFor({ timeout: 30000 });
      assert.deepEqual(await page.getByTestId('feature-maps').locator('h4').allTextContents(),
                       ['conv2d: 28×28×6', 'conv2d_1: 10×10×16']);
      await page.getByTestId('show-confusion').click();
      const matrix = page.getByTestId('confusion-matrix');
      await matrix.waitFor({ timeout: 30000 });
      const cells = (await matrix.locator('td').allTextContents()).map(Number);
      assert.equal(cells.length, 16);
      assert.equal(cells.reduce((a, b) => a + b, 0), validationImages);  // each readable one counted once
      await page.getByTestId('predict-input').setInputFiles(sampleImage());
      const top = page.getByTestId('predict-top5').locator('li');
      await top.nth(3).waitFor({ timeout: 30000 });
      assert.equal(await top.count(), 4);  // four classes
      assert.match(await top.first().textContent(), /shape_\d \d+\.\d%/);
      await page.screenshot({ path: path.join(shots, `inspect${variant}.png`), fullPage: true });
    });

    test('a downloaded model loads back and predicts the same; the session survives a reload', async () => {
      const before = await page.getByTestId('predict-top5').textContent();
      await page.getByTestId('nav-save').click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-model').click()]);
      const file = path.join(tmp, 'model.h5');
      await download.saveAs(file);
      assert.ok(fs.statSync(file).size > 61196 * 4);
      assert.equal(fs.readFileSync(file).subarray(1, 4).toString(), 'HDF');  // Keras's HDF5 layout
      // A file that is not a model is refused in words, and nothing breaks.
      await page.getByTestId('model-file-input').setInputFiles(path.join(tmp, 'not-a-model.cnnp'));
      await page.getByTestId('save-problem').filter({ hasText: /not a CNN Playground model/ }).waitFor({ timeout: 30000 });
      await page.getByTestId('model-file-input').setInputFiles(file);
      await page.getByTestId('model-file-status').filter({ hasText: 'Loaded model.h5: 61,196 parameters' })
        .waitFor({ timeout: 30000 });
      await page.getByTestId('nav-inspect').click();
      await page.getByTestId('predict-input').setInputFiles(sampleImage());
      await page.waitForTimeout(300);
      await page.getByTestId('predict-top5').locator('li').nth(3).waitFor({ timeout: 30000 });
      assert.equal(await page.getByTestId('predict-top5').textContent(), before);

      // Reload: settings, weights and curves come back from IndexedDB.
      await page.getByTestId('nav-train').click();
      const valAccuracy = await page.getByTestId('val-accuracy').textContent();
      await page.reload();
      await page.getByTestId('nav-save').click();
      await page.getByTestId('autosave-status').filter({ hasText: 'Restored the session' }).waitFor({ timeout: 30000 });
      await page.getByTestId('nav-train').click();
      assert.equal(await page.getByTestId('val-accuracy').textContent(), valAccuracy);
      await page.getByTestId('nav-inspect').click();
      await page.getByTestId('engine-info').filter({ hasText: 'engine:' }).waitFor({ timeout: 30000 });
      await page.getByTestId('predict-input').setInputFiles(sampleImage());
      await page.getByTestId('predict-top5').locator('li').nth(3).waitFor({ timeout: 30000 });
      assert.equal(await page.getByTestId('predict-top5').textContent(), before);
      // The sample dataset (10 classes) does not fit the restored 4-class model: said, not overwritten.
      await page.getByTestId('nav-model').click();
      await page.getByTestId('model-notice').filter({ hasText: 'predicts 4 classes' }).waitFor({ timeout: 60000 });
      await page.getByTestId('nav-train').click();
      await page.getByTestId('train-button').click();
      await page.getByTestId('train-problem').filter({ hasText: "the model's last layer has 4 outputs, but the data has 10 classes" })
        .waitFor({ timeout: 30000 });
      await page.getByTestId('nav-save').click();
      await page.screenshot({ path: path.join(shots, `save${variant}.png`), fullPage: true });
      assert.deepEqual(problems, []);
    });

    test('ResNet50 section: Keras weights through weights-input, frozen backbone, head training, .h5 round trip', async () => {
      // The mini network keeps ResNet50's names, so the small Keras-layout fixture fits it.
      await page.getByTestId('nav-resnet50').click();
      await page.getByTestId('resnet-network').selectOption('mini');
      await page.getByTestId('nav-model').click();
      await page.getByTestId('preset-resnet50').click();  // builds it, and shows the ResNet50 section
      assert.equal(await page.locator('#resnet50').isVisible(), true);
      await page.getByTestId('resnet-params').filter({ hasText: 'Trainable params: 650' }).waitFor({ timeout: 60000 });
      await page.getByTestId('weights-input').setInputFiles(path.join(root, 'tests/fixtures/keras_h5/reduced_resnet.h5'));
      await page.getByTestId('weights-status').filter({ hasText: /Loaded reduced_resnet\.h5: [\d,]+ weights of 40 layers/ })
        .waitFor({ timeout: 60000 });
      assert.equal(await page.getByTestId('weights-progress').evaluate((p) => p.value), 1);
      // The file's top ('probs') is not part of the backbone: said, not silently dropped.
      await page.getByText("file layers not in the model, skipped: 'probs'").waitFor();
      const counts = page.getByTestId('resnet-params');
      const total = Number((await counts.textContent()).match(/Total params: ([\d,]+)/)[1].replace(/,/g, ''));
      await page.getByTestId('freeze-backbone').uncheck();
      // Unfrozen, everything trains but the BatchNormalization moving statistics.
      await counts.filter({ hasNotText: 'Trainable params: 650 ·' }).waitFor({ timeout: 30000 });
      const trainable = Number((await counts.textContent()).match(/Trainable params: ([\d,]+)/)[1].replace(/,/g, ''));
      assert.ok(trainable > 650 && trainable < total, `${trainable} trainable of ${total}`);
      await page.getByTestId('freeze-backbone').check();
      await counts.filter({ hasText: 'Trainable params: 650 ·' }).waitFor({ timeout: 30000 });
      await page.screenshot({ path: path.join(shots, `resnet50${variant}.png`), fullPage: true });
      // A wrong file is refused in words.
      await page.getByTestId('weights-input').setInputFiles(path.join(tmp, 'not-a-model.cnnp'));
      await page.getByTestId('resnet-problem').filter({ hasText: 'not an HDF5 file' }).waitFor({ timeout: 30000 });

      await page.getByTestId('nav-train').click();
      await page.getByTestId('epochs').fill('1');
      await page.getByTestId('train-button').click();
      await page.getByTestId('train-status').filter({ hasText: /^trained 1 epoch/ }).waitFor({ timeout: 120000 });
      assert.equal(await page.getByTestId('train-problem').textContent(), '');
      assert.ok(Number(await page.getByTestId('val-accuracy').textContent()) >= 0);

      await page.getByTestId('nav-save').click();
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-model').click()]);
      const file = path.join(tmp, 'resnet.h5');
      await download.saveAs(file);
      await page.getByTestId('model-file-input').setInputFiles(file);
      await page.getByTestId('model-file-status').filter({ hasText: `Loaded resnet.h5: ${total.toLocaleString('en-US')} parameters` })
        .waitFor({ timeout: 30000 });
      // Keras 3's .keras archive of Sequential([backbone, GAP, Dense]) loads too.
      await page.getByTestId('model-file-input').setInputFiles(path.join(root, 'tests/fixtures/keras3/nested.keras'));
      await page.getByTestId('model-file-status').filter({ hasText: 'Loaded nested.keras: 291 parameters' })
        .waitFor({ timeout: 30000 });
      assert.deepEqual(problems, []);
    });
  });
}
