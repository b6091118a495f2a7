// The page's engine worker (web/src/engine/worker.js) driven in Node through
// its message protocol, as the page drives it: requests that overlap, or that
// arrive while training runs, are refused or give way; none breaks the state.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { loadCnn } from '../../bindings/js/index.mjs';
import { Requests } from '../../web/src/engine/protocol.js';

// The worker's global scope: it sets self.onmessage and answers with self.postMessage.
const replies = new Map();
let nextId = 1;
globalThis.self = {
  postMessage: (m) => {
    const r = replies.get(m.id);
    if (!r) return;
    if ('event' in m) return r.onEvent?.(m.event, m.data);
    replies.delete(m.id);
    if (m.ok) r.resolve(m.result);
    else r.reject(new Error(m.error));
  },
};
await import('../../web/src/engine/worker.js');
const encoder = await loadCnn({ threads: false });  // makes the test's PNGs
after(() => {
  encoder.dispose();
  delete globalThis.self;
});

function request(type, args, onEvent) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    replies.set(id, { resolve, reject, onEvent });
    self.onmessage({ data: { id, type, args } });
  });
}
const until = async (condition) => {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
};

const SETTINGS = { targetSize: [28, 28], colorMode: 'grayscale', batchSize: 32, validationSplit: 0.25, seed: 1,
                   rescale: 1 / 255, preprocessing: '', augment: {} };
const SMALL_NET = (classes) => ({ class_name: 'Sequential', config: { name: 's', layers: [
  { class_name: 'Conv2D', config: { filters: 4, kernel_size: [5, 5], activation: 'relu',
                                    batch_input_shape: [null, 28, 28, 1] } },
  { class_name: 'Flatten', config: {} },
  { class_name: 'Dense', config: { units: classes, activation: 'softmax' } }] } });
const ADAM = { className: 'Adam', config: { learning_rate: 0.001 } };
const sample = (classes, samples = 120) => ({ sample: { samples, size: 28, classes, seed: 3 } });
// A folder's files as the page passes them: File-like objects that take `ms` to read.
const slowFolder = (count, ms) => Array.from({ length: count }, (_, i) => ({
  path: `c${i % 2}/${i}.png`,
  file: { size: 8, arrayBuffer: () => new Promise((r) => setTimeout(() => r(new ArrayBuffer(8)), ms)) },
}));

describe('engine worker', () => {
  test('Train before any data says so in words', async () => {
    await request(Requests.BUILD_MODEL, { json: SMALL_NET(3) });
    await assert.rejects(request(Requests.TRAIN, { optimizer: ADAM, epochs: 1 }), /there is no data yet/);
  });

  test('a second dataset chosen while the first is read wins; the first gives way', async () => {
    const first = request(Requests.LOAD_DATASET, { files: slowFolder(20, 50) });
    const second = request(Requests.LOAD_DATASET, sample(3));
    assert.deepEqual(await second, { files: 120 });
    await assert.rejects(first, /superseded/);
    const info = await request(Requests.CONFIGURE_DATA, SETTINGS);
    assert.deepEqual(info.train.classes, ['shape_0', 'shape_1', 'shape_2']);
  });

  test('configuring the data reports the images decoded', async () => {
    await request(Requests.LOAD_DATASET, sample(3));
    const reports = [];
    const info = await request(Requests.CONFIGURE_DATA, SETTINGS, (e, d) => { if (e === 'progress') reports.push(d); });
    const total = info.train.samples + info.validation.samples;
    assert.equal(total, 120);
    assert.deepEqual(reports.at(-1), { stage: 'decoding images', done: 120, total: 120 });
    assert.ok(reports.length >= 100, `${reports.length} reports`);
  });

  test('only image files are read: a video beside them is skipped by its name', async () => {
    let read = 0;
    const file = (bytes) => ({ size: bytes.length, arrayBuffer: async () => { read++; return bytes.buffer; } });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
    const r = await request(Requests.LOAD_DATASET, { files: [
      { path: 'cats/a.png', file: file(png) }, { path: 'cats/clip.MOV', file: file(new Uint8Array(1 << 20)) }] });
    assert.deepEqual(r, { files: 2 });
    assert.equal(read, 1);
  });

  test('while training runs, the dataset cannot change, and training goes on with its data', async () => {
    await request(Requests.LOAD_DATASET, sample(3));
    await request(Requests.CONFIGURE_DATA, SETTINGS);
    await request(Requests.BUILD_MODEL, { json: SMALL_NET(3) });
    // Paused at its first batch (the pause is asked for inside that batch's
    // event, so a quick run cannot finish first), then stopped.
    let paused = null;
    const training = request(Requests.TRAIN, { optimizer: ADAM, epochs: 50 }, (e) => {
      if (e === 'batch' && !paused) paused = request(Requests.PAUSE);
    });
    await until(() => paused);
    assert.deepEqual(await paused, { paused: true });
    await assert.rejects(request(Requests.LOAD_DATASET, sample(5)), /cannot change while training runs/);
    await assert.rejects(request(Requests.CONFIGURE_DATA, SETTINGS), /cannot change while training runs/);
    await request(Requests.STOP);
    const { history } = await training;
    assert.equal(history.epoch.length, 1);  // the stop closed the first epoch
    const again = await request(Requests.TRAIN, { optimizer: ADAM, epochs: 1 });
    assert.equal(again.history.epoch.length, 1);
  });

  test('a Train refused for a mismatch leaves the model\'s class names as they were', async () => {
    await request(Requests.LOAD_DATASET, sample(3));
    await request(Requests.CONFIGURE_DATA, SETTINGS);
    await request(Requests.BUILD_MODEL, { json: SMALL_NET(3) });
    await request(Requests.TRAIN, { optimizer: ADAM, epochs: 1 });  // trained on shape_0..2
    const png = encoder.data.encodePng({ data: new Float32Array(28 * 28).fill(0.5), shape: [28, 28, 1] });
    const file = { size: png.length, arrayBuffer: async () => png.slice().buffer };
    const folder = ['ant', 'bee', 'cat', 'dog'].flatMap((c) => [0, 1, 2, 3].map((i) => ({ path: `${c}/${i}.png`, file })));
    await request(Requests.LOAD_DATASET, { files: folder });
    await request(Requests.CONFIGURE_DATA, SETTINGS);
    await assert.rejects(request(Requests.TRAIN, { optimizer: ADAM, epochs: 1 }), /the data has 4 classes/);
    const { top } = await request(Requests.PREDICT_IMAGE, { bytes: png, name: 'x.png' });
    assert.deepEqual(top.map((t) => t.className).sort(), ['shape_0', 'shape_1', 'shape_2']);
  });
});
