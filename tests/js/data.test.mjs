// The folder pipeline through the JS API: Keras's messages, class_indices,
// splits and batches, bad files, and LeNet trained from a folder of PNGs.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, test } from 'node:test';

import { loadVariants, root } from './helpers.mjs';

const variants = await loadVariants();
after(() => variants.forEach((v) => v.cnn.dispose()));

const image = (name) => new Uint8Array(fs.readFileSync(`${root}/tests/fixtures/images/${name}`));

for (const { name, cnn } of variants) {
  describe(`data (${name})`, () => {
    test('flow_from_directory: message, class_indices, split, batches', async () => {
      const png = image('rgb.png');
      const records = [];
      for (let i = 0; i < 7; i++) records.push({ path: `dogs/${i}.png`, bytes: png });
      for (let i = 0; i < 3; i++) records.push({ path: `cats/sub/${i}.png`, bytes: png });
      records.push({ path: 'cats/notes.txt', bytes: new Uint8Array([1]) });
      const files = await cnn.data.files(records, { folders: ['empty'] });
      const opts = { targetSize: [8, 10], batchSize: 4, classMode: 'sparse', validationSplit: 0.25, seed: 1, rescale: 1 / 255 };
      const train = files.flow({ ...opts, subset: 'training', augment: { horizontalFlip: true } });
      const val = files.flow({ ...opts, subset: 'validation', augment: { horizontalFlip: true } });
      assert.equal(train.foundMessage, 'Found 9 images belonging to 3 classes.');  // 3 - int(0.75) + 7 - int(1.75)
      assert.equal(val.foundMessage, 'Found 1 images belonging to 3 classes.');
      assert.deepEqual(train.classIndices, { cats: 0, dogs: 1, empty: 2 });
      assert.equal(train.length, 3);
      assert.ok(train.augmenting && !val.augmenting);
      const per = files.flow({ ...opts, subset: 'training', augment: { noise: { value: 5, probability: 0.3 }, zoomRange: [0.9, 1.1] } });
      assert.ok(per.augmenting);
      per.dispose();
      assert.throws(() => files.flow({ ...opts, augment: { mixup: true } }), { message: /unknown option 'mixup'/ });
      assert.match(train.skippedWarning, /cats\/notes\.txt/);
      const { x, y } = train.next();
      assert.deepEqual(x.shape, [4, 8, 10, 3]);
      assert.deepEqual(y.shape, [4]);
      assert.ok(x.dataSync().every((v) => v >= 0 && v <= 1));
      [x, y, train, val, files].forEach((o) => o.dispose());
    });

    test('unreadable and missing data are reported, not swallowed', async () => {
      const files = await cnn.data.files([
        { path: 'a/1.png', bytes: image('rgb.png') },
        { path: 'a/2.jpg', bytes: image('truncated.jpg') },
        { path: 'b/1.png', bytes: image('not_an_image.png') },
      ]);
      const flow = files.flow({ targetSize: [4, 4] });
      assert.throws(() => flow.prepare(), { message: /class 'b' has no readable image.*b\/1\.png/ });
      await assert.rejects(cnn.data.fromFiles([{ path: 'x.png', bytes: image('rgb.png') }]), { message: /no class folders/ });
      assert.throws(() => files.flow({ targetSize: [0, 4] }),
                    { message: 'flow: targetSize must be [height, width], two whole numbers of at least 1, got [0,4]' });
      assert.throws(() => files.flow({ targetSize: [4, 4], batchSize: '8' }), { message: /flow: batchSize must be a whole number, got "8"/ });
      [flow, files].forEach((o) => o.dispose());
    });

    test('options: Keras\'s spellings are taken, a mistyped one is named', async () => {
      const records = [];
      for (let i = 0; i < 8; i++) records.push({ path: `${i % 2 ? 'cats' : 'dogs'}/${i}.png`, bytes: image('rgb.png') });
      const files = await cnn.data.files(records, { folders: ['birds'] });
      const flow = files.flow({ target_size: [6, 6], batch_size: 3, validation_split: 0.5, subset: 'training' });
      assert.equal(flow.foundMessage, 'Found 4 images belonging to 3 classes.');
      assert.equal(flow.length, 2);
      assert.match(flow.emptyWarning, /class folder 'birds' has no images/);
      assert.throws(() => files.flow({ targetSize: [6, 6], batchsize: 3 }),
                    { message: /flow: unknown option 'batchsize', expected one of targetSize, .*batchSize/ });
      assert.throws(() => files.flow({ targetSize: [6, 6], subset: 'validation' }),
                    { message: /subset 'validation' needs a validation_split above 0/ });
      assert.throws(() => cnn.layers.conv2d({ filters: 2, kernal_size: 3 }), { message: /conv2d: unknown option 'kernal_size'/ });
      assert.deepEqual(cnn.layers.conv2d({ filters: 2, kernel_size: 3 }).toKeras().config.kernel_size, [3, 3]);
      const model = cnn.sequential([cnn.layers.flatten({ inputShape: [6, 6, 3] }), cnn.layers.dense({ units: 3, activation: 'softmax' })]);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy' });
      await assert.rejects(model.fit(flow, { epochs: 1, verbose: 0 }), { message: /fit: unknown option 'verbose'/ });
      await assert.rejects(model.fit(flow, { epochs: '1' }), { message: 'fit: epochs must be a whole number, got "1"' });
      assert.equal(cnn.optimizers.adam({ learning_rate: 0.5 }).config.learning_rate, 0.5);
      assert.throws(() => cnn.optimizers.sgd({ learning_rat: 0.5 }), { message: /optimizers\.sgd: unknown option 'learning_rat'/ });
      assert.throws(() => cnn.presets.lenet({ input_shap: [6, 6, 3] }), { message: /presets\.lenet: unknown option/ });
      assert.throws(() => files.flow({ targetSize: [6, 6], seed: -1 }), { message: /flow: seed must be a whole number of at least 0, got -1/ });
      [flow, files, model].forEach((o) => o.dispose());
    });

    test('a flow used without prepare(): counts without its unreadable files, first pass shuffled', async () => {
      const records = [];
      for (let i = 0; i < 16; i++) records.push({ path: `${i < 8 ? 'a' : 'b'}/${10 + i}.png`, bytes: image('rgb.png') });
      records.push({ path: 'a/zz.jpg', bytes: image('truncated.jpg') });
      const files = await cnn.data.files(records);
      const flow = files.flow({ targetSize: [4, 4], batchSize: 1, classMode: 'sparse', seed: 7 });
      assert.equal(flow.samples, 17);  // the listing, as Keras's Found message counts it
      const model = cnn.sequential([cnn.layers.flatten({ inputShape: [4, 4, 3] }), cnn.layers.dense({ units: 2, activation: 'softmax' })]);
      model.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await model.fit(flow, { epochs: 1 });  // once failed at the last step: "batch 16 out of range"
      assert.equal(h.epoch.length, 1);
      assert.equal(flow.samples, 16);
      assert.equal(flow.unreadable.length, 1);
      const labels = [];
      for (let b = 0; b < flow.length; b++) {
        const { x, y } = flow.batch(b, { epoch: 0 });
        labels.push(...y.dataSync());
        [x, y].forEach((t) => t.dispose());
      }
      assert.notDeepEqual(labels, [...labels].sort((p, q) => p - q));
      [flow, files, model].forEach((o) => o.dispose());
    });

    test('prepare reports how far it has decoded', async () => {
      const records = [];
      for (let i = 0; i < 250; i++) records.push({ path: `${i % 2 ? 'a' : 'b'}/${i}.png`, bytes: image('rgb.png') });
      const files = await cnn.data.files(records);
      const flow = files.flow({ targetSize: [4, 4] });
      const seen = [];
      flow.prepare({ onProgress: (done, total) => seen.push([done, total]) });
      assert.ok(seen.length >= 100 && seen.length <= 130, `${seen.length} reports`);
      assert.deepEqual(seen.at(-1), [250, 250]);
      assert.ok(seen.every(([d, t], i) => t === 250 && (i === 0 || d > seen[i - 1][0])));
      [flow, files].forEach((o) => o.dispose());
    });

    test('loadImage: a rescale of 0 is none, as in a flow', () => {
      const ones = cnn.data.loadImage(image('rgb.png'), { targetSize: [4, 4], rescale: 1 });
      const zero = cnn.data.loadImage(image('rgb.png'), { targetSize: [4, 4], rescale: 0 });
      assert.deepEqual(zero.dataSync(), ones.dataSync());
      assert.throws(() => cnn.data.loadImage(image('rgb.png'), { targetSize: [4] }), { message: /loadImage: targetSize must be/ });
      [ones, zero].forEach((t) => t.dispose());
    });

    test('LeNet trains from a folder of PNGs to >= 90% validation accuracy', async () => {
      const task = cnn.data.syntheticTask({ samples: 2000, seed: 21 });
      const labels = task.y.dataSync();
      const pixels = task.x.dataSync();
      const records = [];
      for (let i = 0; i < 2000; i++) {
        const png = cnn.data.encodePng({ data: pixels.subarray(i * 784, (i + 1) * 784), shape: [28, 28, 1] });
        records.push({ path: `class_${labels[i]}/${String(i).padStart(5, '0')}.png`, bytes: png });
      }
      const files = await cnn.data.files(records);
      const opts = { targetSize: [28, 28], colorMode: 'grayscale', batchSize: 32, classMode: 'sparse',
                     validationSplit: 0.2, seed: 3, rescale: 1 / 255 };
      const train = files.flow({ ...opts, subset: 'training' });
      const val = files.flow({ ...opts, subset: 'validation', shuffle: false });
      const model = cnn.presets.lenet({ inputShape: [28, 28, 1], classes: 10, seed: 5 });
      model.compile({ optimizer: cnn.optimizers.adam(), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
      const h = await model.fit(train, { validationData: val, epochs: 5, seed: 3 });
      const acc = h.history.val_accuracy.at(-1);
      console.log(`${name}: folder LeNet val_accuracy ${acc}`);
      assert.ok(acc >= 0.9, `val_accuracy ${acc}`);
      [task.x, task.y, train, val, files, model].forEach((o) => o.dispose());
    });
  });
}
